/**
 * Sharing a call link: the bot's welcome names it, and `link` replies with it,
 * with advice when the user's rules refuse anonymous callers, and with its QR
 * code uploaded to the homeserver's media repository (real Synapse).
 */
import QRCode from "qrcode";
import { BridgeFixture, waitFor } from "./fixture";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";

const BOT = "@webcall:example.org";

describe("the bot shares a user's call link", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let bot: BotChat;
  let link: string;

  beforeAll(async () => {
    fx = await BridgeFixture.start({ rules: { defaultAction: "ring_verified" } });
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    link = `http://127.0.0.1:${fx.bridge.webcallPort}/call/alice`;
  });
  afterAll(async () => { await fx.stop(); });

  it("names the link in its welcome, and how link callers get through", async () => {
    bot = await BotChat.open(alice, BOT);
    const welcome = (await fx.hs.timeline(bot.roomId)).find((e) => e.sender === BOT && e.type === "m.room.message")!;
    expect(welcome.content.body).toContain(`Your call link is ${link}`);
    expect(welcome.content.formatted_body).toContain(`<a href="${link}">`);
    expect(welcome.content.body).toMatch(/^• link — .*allow anonymous/m); // and help says how to allow link callers
  });

  it("link: the link, the advice while anonymous callers are refused, and its QR code as an image from the media repository", async () => {
    const reply = await bot.command("link");
    expect(reply.body).toContain(link);
    expect(reply.body).toMatch(/refuse anonymous callers right now.*send: allow anonymous/s);
    const image = await waitFor(async () => (await fx.hs.timeline(bot.roomId))
      // Synapse makes the image's thumbnails as it takes the upload: over 10 s once, on a loaded machine.
      .find((e) => e.sender === BOT && e.content.msgtype === "m.image"), 45_000, "the QR code image");
    expect(image.content).toMatchObject({ body: `QR code of ${link}`, url: expect.stringMatching(/^mxc:\/\/example\.org\//), info: { mimetype: "image/png" } });
    // The uploaded bytes are the QR code of exactly this link (qrcode's output is deterministic).
    const [server, mediaId] = String(image.content.url).slice("mxc://".length).split("/");
    const res = await fetch(`${fx.hs.url}/_matrix/client/v1/media/download/${server}/${mediaId}`, { headers: { authorization: `Bearer ${alice.user.accessToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(await QRCode.toBuffer(link, { type: "png", errorCorrectionLevel: "M", margin: 2, width: 512 }))).toBe(true);
    expect(image.content.info).toMatchObject({ size: bytes.length, w: bytes.readUInt32BE(16), h: bytes.readUInt32BE(20) });
  });

  it("link after allow anonymous: no advice, the callers ring", async () => {
    await bot.command("allow anonymous");
    const reply = await bot.command("link");
    expect(reply.body).toContain(link);
    expect(reply.body).toMatch(/let anonymous callers ring right now/);
    expect(reply.body).not.toMatch(/send: allow anonymous/);
  });
});
