import { createPrivateKey, createPublicKey, KeyObject, randomBytes, sign, verify } from "node:crypto";

/**
 * Ed25519 keys and signatures in the forms WebCall nodes exchange: keys as
 * 32 raw bytes, keys and signatures in unpadded standard base64 (as Matrix
 * federation writes them), key ids `ed25519:<1-32 of A-Z a-z 0-9 _>`.
 */

export const KEY_ID = /^ed25519:[A-Za-z0-9_]{1,32}$/;
export const UNPADDED_BASE64 = /^[A-Za-z0-9+/]+$/;

/** DER prefixes that wrap 32 raw key bytes as PKCS#8 / SPKI (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

/** Decodes unpadded (or padded) standard base64; undefined when malformed. */
export function fromBase64(text: string): Buffer | undefined {
  const bare = text.replace(/=+$/, "");
  if (!UNPADDED_BASE64.test(bare) || bare.length % 4 === 1) return undefined;
  return Buffer.from(bare, "base64");
}

/** A private key from its 32-byte seed. */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}

/** A public key from its 32 raw bytes in base64; undefined when malformed. */
export function publicKeyFromBase64(text: string): KeyObject | undefined {
  const raw = fromBase64(text);
  if (!raw || raw.length !== 32) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
  } catch {
    return undefined;
  }
}

/** The 32 raw bytes of a public key (or of the public half of a private key), in base64. */
export function publicKeyBase64(key: KeyObject): string {
  const spki = (key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" });
  return toBase64(spki.subarray(SPKI_PREFIX.length));
}

export function newSeed(): Buffer {
  return randomBytes(32);
}

/** A fresh key id: `ed25519:` and 8 random characters. */
export function newKeyId(): string {
  return `ed25519:${randomBytes(6).toString("base64url").replace(/-/g, "_")}`;
}

export function signText(text: string, key: KeyObject): string {
  return toBase64(sign(null, Buffer.from(text, "utf8"), key));
}

export function verifyText(text: string, signature: string, key: KeyObject): boolean {
  const raw = fromBase64(signature);
  if (!raw || raw.length !== 64) return false;
  return verify(null, Buffer.from(text, "utf8"), key, raw);
}
