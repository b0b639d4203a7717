/** Identifier generation and parsing, in the formats Synapse uses. */
import { randomBytes } from "node:crypto";

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

export function randomLetters(n: number): string {
  const bytes = randomBytes(n);
  let out = "";
  for (const b of bytes) out += LETTERS[b % LETTERS.length];
  return out;
}

/** Room v4+ event ids are "$" + unpadded url-safe base64 of a sha256 (43 chars). */
export function newEventId(): string {
  return "$" + randomBytes(32).toString("base64url");
}

export function newRoomId(serverName: string): string {
  return `!${randomLetters(18)}:${serverName}`;
}

export function newAccessToken(): string {
  return "syt_" + randomBytes(24).toString("base64url");
}

export function newDeviceId(): string {
  return randomLetters(10).toUpperCase();
}

/** Splits "@local:server" (or "#alias:server"); undefined when malformed. */
export function parseId(sigil: "@" | "#" | "!", id: string): { localpart: string; server: string } | undefined {
  if (!id.startsWith(sigil)) return undefined;
  const colon = id.indexOf(":");
  if (colon < 2 || colon === id.length - 1) return undefined;
  return { localpart: id.slice(1, colon), server: id.slice(colon + 1) };
}

/** Synapse's rule for localparts it will register. */
export function isValidLocalpart(localpart: string): boolean {
  return /^[a-z0-9._=\-/+]+$/.test(localpart);
}
