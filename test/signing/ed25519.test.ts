import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  fromBase64, KEY_ID, newKeyId, newSeed, privateKeyFromSeed, publicKeyBase64, publicKeyFromBase64, signText, toBase64, verifyText,
} from "../../src/signing/ed25519";

/** RFC 8032 §7.1 test 1. */
const SEED = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
const PUBLIC = Buffer.from("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "hex");
const EMPTY_SIG = Buffer.from(
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", "hex");

describe("base64 (unpadded, standard alphabet)", () => {
  it("round-trips every length and byte value", () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = randomBytes(n);
      const text = toBase64(bytes);
      expect(text).not.toMatch(/=/);
      if (n > 0) expect(text).toMatch(/^[A-Za-z0-9+/]+$/);
      if (n > 0) expect(fromBase64(text)).toEqual(bytes);
    }
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(fromBase64(toBase64(all))).toEqual(all);
  });

  it("writes the standard alphabet (+ and /), not base64url", () => {
    expect(toBase64(Buffer.from([0xfb, 0xff, 0xbf]))).toBe("+/+/");
    expect(toBase64(Buffer.from("a"))).toBe("YQ");
    expect(toBase64(Buffer.from("ab"))).toBe("YWI");
    expect(toBase64(new Uint8Array([1, 2, 3]))).toBe("AQID");
  });

  it("reads padded input too", () => {
    expect(fromBase64("YQ==")).toEqual(Buffer.from("a"));
    expect(fromBase64("YWI=")).toEqual(Buffer.from("ab"));
  });

  it.each([
    ["empty", ""],
    ["only padding", "=="],
    ["base64url characters", "-_-_"],
    ["whitespace", "YW I"],
    ["a newline", "YWJj\nZGVm"],
    ["padding in the middle", "YQ==YQ"],
    ["an impossible length", "YWJjZ"],
    ["a single character", "Y"],
    ["non-ASCII", "YWé"],
  ])("refuses %s", (_name, text) => {
    expect(fromBase64(text)).toBeUndefined();
  });
});

describe("Ed25519 keys and signatures", () => {
  it("derives RFC 8032's public key from its seed and makes its signature", () => {
    const key = privateKeyFromSeed(SEED);
    expect(publicKeyBase64(key)).toBe(toBase64(PUBLIC));
    const pub = publicKeyFromBase64(toBase64(PUBLIC))!;
    expect(publicKeyBase64(pub)).toBe(toBase64(PUBLIC));
    expect(signText("", key)).toBe(toBase64(EMPTY_SIG));
    expect(verifyText("", toBase64(EMPTY_SIG), pub)).toBe(true);
  });

  it("signs and verifies UTF-8 text, and nothing else verifies", () => {
    const key = privateKeyFromSeed(newSeed());
    const pub = publicKeyFromBase64(publicKeyBase64(key))!;
    const sig = signText("日本語 text", key);
    expect(fromBase64(sig)).toHaveLength(64);
    expect(sig).toHaveLength(86); // 64 bytes, unpadded
    expect(verifyText("日本語 text", sig, pub)).toBe(true);
    expect(verifyText("日本語 text ", sig, pub)).toBe(false);
    const other = publicKeyFromBase64(publicKeyBase64(privateKeyFromSeed(newSeed())))!;
    expect(verifyText("日本語 text", sig, other)).toBe(false);
    // One bit flipped anywhere in the signature.
    const raw = fromBase64(sig)!;
    for (const i of [0, 31, 32, 63]) {
      const flipped = Buffer.from(raw);
      flipped[i]! ^= 1;
      expect(verifyText("日本語 text", toBase64(flipped), pub)).toBe(false);
    }
  });

  it("refuses signatures of the wrong length or that are not base64, without throwing", () => {
    const key = privateKeyFromSeed(SEED);
    const pub = publicKeyFromBase64(toBase64(PUBLIC))!;
    const sig = fromBase64(signText("x", key))!;
    expect(verifyText("x", toBase64(sig.subarray(0, 63)), pub)).toBe(false);
    expect(verifyText("x", toBase64(Buffer.concat([sig, Buffer.from([0])])), pub)).toBe(false);
    expect(verifyText("x", "", pub)).toBe(false);
    expect(verifyText("x", "not base64!", pub)).toBe(false);
    // base64url is not the standard alphabet: a signature with "+" or "/" in it is refused in that form.
    let text = "x", raw = sig;
    for (let i = 0; !/[+/]/.test(toBase64(raw)); i++) raw = fromBase64(signText((text = `x${i}`), key))!;
    expect(verifyText(text, toBase64(raw), pub)).toBe(true);
    expect(verifyText(text, raw.toString("base64url"), pub)).toBe(false);
  });

  it("refuses public keys of the wrong length or that are not base64", () => {
    expect(publicKeyFromBase64(toBase64(PUBLIC.subarray(0, 31)))).toBeUndefined();
    expect(publicKeyFromBase64(toBase64(Buffer.concat([PUBLIC, Buffer.from([0])])))).toBeUndefined();
    expect(publicKeyFromBase64(toBase64(Buffer.alloc(64)))).toBeUndefined();
    expect(publicKeyFromBase64("")).toBeUndefined();
    expect(publicKeyFromBase64("#".repeat(43))).toBeUndefined();
    expect(publicKeyFromBase64(PUBLIC.toString("hex"))).toBeUndefined();
  });

  it("refuses seeds that are not 32 bytes", () => {
    expect(() => privateKeyFromSeed(Buffer.alloc(31))).toThrow(RangeError);
    expect(() => privateKeyFromSeed(Buffer.alloc(33))).toThrow(RangeError);
    expect(newSeed()).toHaveLength(32);
    expect(newSeed().equals(newSeed())).toBe(false);
  });

  it("reads the public key of a key made elsewhere", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const text = publicKeyBase64(publicKey);
    expect(publicKeyBase64(privateKey)).toBe(text);
    expect(fromBase64(text)).toHaveLength(32);
    expect(verifyText("m", signText("m", privateKey), publicKeyFromBase64(text)!)).toBe(true);
  });
});

describe("key ids", () => {
  it("newKeyId makes fresh ids that match KEY_ID", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const id = newKeyId();
      expect(id).toMatch(KEY_ID);
      expect(id).toMatch(/^ed25519:[A-Za-z0-9_]{8}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(500);
  });

  it.each(["ed25519:a", "ed25519:A_z9", `ed25519:${"x".repeat(32)}`])("KEY_ID accepts %s", (id) => {
    expect(KEY_ID.test(id)).toBe(true);
  });

  it.each(["ed25519:", `ed25519:${"x".repeat(33)}`, "ed25519:a-b", "ed25519:a+b", "ED25519:abc", "curve25519:abc", "ed25519:abc ", "ed25519:ab\n"])(
    "KEY_ID refuses %j", (id) => {
      expect(KEY_ID.test(id)).toBe(false);
    });
});
