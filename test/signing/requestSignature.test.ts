import { privateKeyFromSeed, publicKeyFromBase64, publicKeyBase64, signText, verifyText, newSeed } from "../../src/signing/ed25519";
import { formatSignatureHeader, parseSignatureHeader, SignatureHeader, signedText } from "../../src/signing/requestSignature";

const SIG = "hyeuaOaF7K7gzoYvuNMTdVzxKEhTsBw+LW4h+frV3X5EdqIvcOgFZVV6wZhvX8gZVlPLcP2XJXA0ZO0xU8e6Bw";
const GOOD: SignatureHeader = { origin: "employer.com", destination: "example.org", key: "ed25519:a1B2c3D4", ts: 1763712000000, sig: SIG };

describe("parseSignatureHeader: good headers", () => {
  it("reads what formatSignatureHeader writes", () => {
    const header = formatSignatureHeader(GOOD);
    expect(header).toBe(`origin="employer.com",destination="example.org",key="ed25519:a1B2c3D4",ts="1763712000000",sig="${SIG}"`);
    expect(parseSignatureHeader(header)).toEqual(GOOD);
  });

  it("reads unquoted values, spaces around everything, and any field order", () => {
    expect(parseSignatureHeader(`sig=${SIG}, ts=1763712000000 ,key = ed25519:a1B2c3D4,  destination="example.org" ,origin=employer.com`)).toEqual(GOOD);
    expect(parseSignatureHeader(` origin = "employer.com" , destination = example.org , key = "ed25519:a1B2c3D4" , ts = "1763712000000" , sig = "${SIG}" `)).toEqual(GOOD);
    expect(parseSignatureHeader(`origin=employer.com,\tdestination=example.org,key=ed25519:a1B2c3D4,ts=1763712000000,sig=${SIG}`)).toEqual(GOOD);
  });

  it("reads field names case-insensitively and lower-cases the domains (not the key id)", () => {
    const parsed = parseSignatureHeader(`ORIGIN="Employer.COM",Destination="EXAMPLE.org",KEY="ed25519:a1B2c3D4",Ts="1763712000000",SiG="${SIG}"`);
    expect(parsed).toEqual(GOOD);
  });

  it("accepts a padded signature and small timestamps", () => {
    const parsed = parseSignatureHeader(formatSignatureHeader({ ...GOOD, sig: `${SIG}==`, ts: 0 }));
    expect(parsed).toEqual({ ...GOOD, sig: `${SIG}==`, ts: 0 });
  });

  it("accepts single-label and long domains, and the longest key id", () => {
    const label = "a".repeat(63);
    const long = [label, label, label, "b".repeat(61)].join(".");
    expect(long).toHaveLength(253);
    const header = { ...GOOD, origin: "localhost", destination: long, key: `ed25519:${"Z".repeat(32)}` };
    expect(parseSignatureHeader(formatSignatureHeader(header))).toEqual(header);
  });
});

describe("parseSignatureHeader: malformed headers get a reason", () => {
  const fields = {
    origin: '"employer.com"', destination: '"example.org"', key: '"ed25519:a1B2c3D4"', ts: '"1763712000000"', sig: `"${SIG}"`,
  };
  const build = (over: Partial<Record<keyof typeof fields, string | null>> = {}): string =>
    Object.entries({ ...fields, ...over }).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(",");

  it("the builder makes a good header", () => {
    expect(parseSignatureHeader(build())).toEqual(GOOD);
  });

  it.each(["origin", "destination", "key", "ts", "sig"] as const)("a missing %s", (name) => {
    expect(parseSignatureHeader(build({ [name]: null }))).toBe("the signature header needs origin, destination, key, ts and sig");
  });

  it.each(["origin", "destination", "key", "ts", "sig"] as const)("a duplicate %s (in any case)", (name) => {
    expect(parseSignatureHeader(`${build()},${name}=${fields[name]}`)).toBe(`the signature header names ${name} twice`);
    expect(parseSignatureHeader(`${build()},${name.toUpperCase()}=${fields[name]}`)).toBe(`the signature header names ${name} twice`);
  });

  it.each([
    ["empty", ""],
    ["only commas", ",,,,"],
    ["a bare word", "x"],
    ["a field without =", 'origin="employer.com",destination'],
    ["an unterminated quote", 'origin="employer.com'],
    ["a quote inside a value", 'origin=emp"loyer.com'],
    ["a space inside an unquoted value", "origin=employer .com"],
    ["a name with digits", 'origin2="employer.com"'],
    ["two headers joined by ;", 'origin="a.com";destination="b.com"'],
  ])("syntax: %s", (_name, header) => {
    expect(parseSignatureHeader(header)).toBe("the signature header is malformed");
  });

  it("a trailing comma after a complete header", () => {
    expect(parseSignatureHeader(`${build()},`)).toBe("the signature header is malformed");
  });

  it("an unknown extra field is tolerated", () => {
    expect(parseSignatureHeader(`${build()},extra="1"`)).toEqual(GOOD);
  });

  it.each([
    ["empty", '""'], ["with a port", '"employer.com:443"'], ["an IPv6 literal", '"[::1]"'], ["with a path", '"employer.com/x"'],
    ["a leading dot", '".employer.com"'], ["a trailing dot", '"employer.com."'], ["a leading hyphen", '"-employer.com"'],
    ["an underscore", '"em_ployer.com"'], ["a 64-character label", `"${"a".repeat(64)}.com"`],
    ["254 characters", `"${["a".repeat(63), "a".repeat(63), "a".repeat(63), "b".repeat(62)].join(".")}"`],
    ["non-ASCII", '"émployer.com"'], ["a user@domain", '"alf@employer.com"'],
  ])("a bad domain: %s", (_name, value) => {
    const reason = "the signature header's origin and destination must be domains";
    expect(parseSignatureHeader(build({ origin: value }))).toBe(reason);
    expect(parseSignatureHeader(build({ destination: value }))).toBe(reason);
  });

  it.each([
    '""', '"a1B2c3D4"', '"ed25519:"', '"ed25519:a-b"', `"ed25519:${"a".repeat(33)}"`, '"curve25519:abc"', '"ED25519:abc"',
  ])("a bad key id: %s", (value) => {
    expect(parseSignatureHeader(build({ key: value }))).toBe("the signature header's key must look like ed25519:abc");
  });

  it.each(['""', '"-1"', '"1.5"', '"1e12"', '"0x10"', `"${"1".repeat(17)}"`, '"soon"', '" 1"'])("a bad ts: %s", (value) => {
    expect(parseSignatureHeader(build({ ts: value }))).toBe("the signature header's ts must be ms since the epoch");
  });

  it.each(['""', '"abc-def"', '"abc_def"', '"ab=cd"', '"a b"'])("a bad sig: %s", (value) => {
    expect(parseSignatureHeader(build({ sig: value }))).toBe("the signature header's sig must be base64");
  });

  it("a header that is too long, even if otherwise fine", () => {
    const header = `${build()},pad="${"x".repeat(1024)}"`;
    expect(parseSignatureHeader(header)).toBe("the signature header is too long");
    expect(parseSignatureHeader(`${build()},pad="${"x".repeat(1024 - build().length - 8)}"`)).toEqual(GOOD);
  });

  it("every reason is a non-empty string", () => {
    for (const header of ["", "x", build({ ts: '"x"' }), `${build()},origin=a.com`]) {
      const r = parseSignatureHeader(header);
      expect(typeof r).toBe("string");
      expect((r as string).length).toBeGreaterThan(0);
    }
  });
});

describe("signedText", () => {
  const base = { method: "post", uri: "/webcall", origin: "Employer.COM", destination: "Example.ORG", ts: 5 };

  it("upper-cases the method and lower-cases origin and destination", () => {
    expect(signedText(base)).toBe('{"destination":"example.org","method":"POST","origin":"employer.com","ts":5,"uri":"/webcall"}');
  });

  it("leaves out content when there is no body, and signs null, {} and [] as content", () => {
    expect(signedText({ ...base, content: undefined })).not.toContain("content");
    expect(signedText({ ...base, content: null })).toContain('"content":null');
    expect(signedText({ ...base, content: {} })).toContain('"content":{}');
    expect(signedText({ ...base, content: [] })).toContain('"content":[]');
  });

  it("keeps uri exactly as given (path and query, no normalisation)", () => {
    expect(signedText({ ...base, uri: "/webcall/../x?b=2&a=1" })).toContain('"uri":"/webcall/../x?b=2&a=1"');
  });

  it("signatures over it verify with the public key and differ per field", () => {
    const key = privateKeyFromSeed(newSeed());
    const pub = publicKeyFromBase64(publicKeyBase64(key))!;
    const sig = signText(signedText({ ...base, content: { a: 1 } }), key);
    expect(verifyText(signedText({ ...base, content: { a: 1 } }), sig, pub)).toBe(true);
    expect(verifyText(signedText({ ...base, method: "POST", origin: "employer.com", content: { a: 1 } }), sig, pub)).toBe(true);
    expect(verifyText(signedText({ ...base, content: { a: 2 } }), sig, pub)).toBe(false);
    expect(verifyText(signedText({ ...base }), sig, pub)).toBe(false);
  });
});
