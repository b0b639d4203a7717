import { readFileSync } from "node:fs";
import path from "node:path";
import { canonicalJson } from "../../src/signing/canonicalJson";
import { hopText } from "../../src/signing/chain";
import { fromBase64, privateKeyFromSeed, publicKeyBase64, publicKeyFromBase64, signText, verifyText } from "../../src/signing/ed25519";
import { formatSignatureHeader, parseSignatureHeader, signedText } from "../../src/signing/requestSignature";
import { Hop } from "../../src/protocol/types";

/** The test vectors published in docs/webcall-signing.md §6, read from the document itself. */
interface Vectors {
  seed: string;
  key_id: string;
  public_key: string;
  canonical_json: { input: unknown; canonical: string }[];
  request: { method: string; uri: string; origin: string; destination: string; ts: number; content: unknown;
    signed_text: string; signature: string; header: string };
  chain: { signed_text: string; hop: Hop }[];
}

function vectors(): Vectors {
  const doc = readFileSync(path.join(__dirname, "..", "..", "docs", "webcall-signing.md"), "utf8");
  const m = /<!-- test-vectors -->\s*```json\n([\s\S]*?)\n```/.exec(doc);
  if (!m) throw new Error("docs/webcall-signing.md has no test-vectors block");
  return JSON.parse(m[1]!) as Vectors;
}

const v = vectors();
const key = privateKeyFromSeed(fromBase64(v.seed)!);
const pub = publicKeyFromBase64(v.public_key)!;

describe("the test vectors in docs/webcall-signing.md", () => {
  it("use RFC 8032's test 1 key", () => {
    expect(fromBase64(v.seed)!.toString("hex")).toBe("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    expect(fromBase64(v.public_key)!.toString("hex")).toBe("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    expect(publicKeyBase64(key)).toBe(v.public_key);
  });

  it.each(v.canonical_json.map((c, i) => [i, c] as const))("canonical JSON %i", (_i, c) => {
    expect(canonicalJson(c.input)).toBe(c.canonical);
    // Parsing the canonical form and writing it again changes nothing.
    expect(canonicalJson(JSON.parse(c.canonical))).toBe(c.canonical);
  });

  it("sign a request: signed text, signature and header", () => {
    const r = v.request;
    const text = signedText(r);
    expect(text).toBe(r.signed_text);
    expect(signText(text, key)).toBe(r.signature);
    expect(verifyText(r.signed_text, r.signature, pub)).toBe(true);
    expect(formatSignatureHeader({ origin: r.origin, destination: r.destination, key: v.key_id, ts: r.ts, sig: r.signature })).toBe(r.header);
    expect(parseSignatureHeader(r.header)).toEqual({ origin: r.origin, destination: r.destination, key: v.key_id, ts: r.ts, sig: r.signature });
  });

  it("a request changed in any field no longer verifies", () => {
    const r = v.request;
    const changed = [
      { ...r, method: "PUT" }, { ...r, uri: "/webcall?x=1" }, { ...r, origin: "evil.example" },
      { ...r, destination: "other.example" }, { ...r, ts: r.ts + 1 },
      { ...r, content: { ...(r.content as object), callerId: "boss@employer.com" } },
    ];
    for (const c of changed) expect(verifyText(signedText(c), r.signature, pub)).toBe(false);
  });

  it("sign the forwarding chain: each hop covers the ones before it", () => {
    v.chain.forEach(({ signed_text, hop }, i) => {
      const prior = v.chain.slice(0, i).map((c) => c.hop);
      expect(hopText(hop, prior)).toBe(signed_text);
      expect(signText(signed_text, key)).toBe(hop.sig);
      expect(verifyText(signed_text, hop.sig, pub)).toBe(true);
    });
    // Altering the first hop breaks the second one's signature too.
    const [first, second] = v.chain.map((c) => c.hop) as [Hop, Hop];
    expect(verifyText(hopText(second, [{ ...first, from: "boss@employer.com" }]), second.sig, pub)).toBe(false);
  });
});
