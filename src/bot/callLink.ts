import QRCode from "qrcode";
import { localpartOfUser, MatrixUserId, RoomId } from "../ids/matrix";
import { HomeserverClient } from "../matrix/HomeserverClient";
import { escapeHtml } from "../rules/describe";
import { callLink } from "../webcall/callPage/link";

/**
 * The bot's `link`: the user's call link (the page anyone can open to call
 * them, docs/call-link.md) as text, and as a QR code image uploaded to the
 * homeserver's media repository, to print or show.
 */

export interface LinkReply {
  body: string;
  html: string;
  /** The link the QR code image is to carry. */
  qrFor?: string;
}

const QR_WIDTH = 512;

export function linkReply(base: string | undefined, userId: MatrixUserId, ringsAnonymous: boolean): LinkReply {
  if (base === undefined) {
    const text = "This bridge does not serve call links (callPage.enabled is off).";
    return { body: text, html: escapeHtml(text) };
  }
  const link = callLink(base, localpartOfUser(userId));
  const intro = "Your call link: anyone who opens it can call you from a browser, as an anonymous caller.";
  const rules = ringsAnonymous
    ? "Your rules let anonymous callers ring right now."
    : "Your rules refuse anonymous callers right now, so a call from the link will not ring. To let link callers through, send: allow anonymous (add a time, e.g. allow anonymous on weekdays 09:00-17:00).";
  return {
    body: `${intro}\n${link}\n${rules}`,
    html: `<p>${escapeHtml(intro)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p><p>${escapeHtml(rules)}</p>`,
    qrFor: link,
  };
}

/** The welcome's first lines: where the user can be called. */
export function welcomeLine(base: string | undefined, userId: MatrixUserId): { body: string; html: string } | undefined {
  if (base === undefined) return undefined;
  const link = callLink(base, localpartOfUser(userId));
  return {
    body: `Your call link is ${link} (send link for its QR code; link callers are anonymous, so they ring only once you allow anonymous).`,
    html: `<p>Your call link is <a href="${escapeHtml(link)}">${escapeHtml(link)}</a> (send <code>link</code> for its QR code; link callers are anonymous, so they ring only once you <code>allow anonymous</code>).</p>`,
  };
}

/** Uploads the link's QR code (PNG) and sends it as an m.image. */
export async function sendQrCode(homeserver: HomeserverClient, bot: MatrixUserId, roomId: RoomId, link: string, txnId: string): Promise<void> {
  const png = await QRCode.toBuffer(link, { type: "png", errorCorrectionLevel: "M", margin: 2, width: QR_WIDTH });
  // The PNG's own size, from its IHDR chunk (width and height at bytes 16 and 20).
  const w = png.readUInt32BE(16), h = png.readUInt32BE(20);
  const url = await homeserver.uploadMedia(bot, "image/png", "call-link.png", png);
  await homeserver.sendEvent(bot, roomId, "m.room.message", {
    msgtype: "m.image",
    body: `QR code of ${link}`,
    url,
    info: { mimetype: "image/png", size: png.length, w, h },
  }, txnId);
}
