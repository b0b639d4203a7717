import { canonicalJson, CanonicalJsonError } from "../../src/signing/canonicalJson";

describe("canonicalJson", () => {
  it("writes scalars", () => {
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson(false)).toBe("false");
    expect(canonicalJson(0)).toBe("0");
    expect(canonicalJson(-42)).toBe("-42");
    expect(canonicalJson("")).toBe('""');
    expect(canonicalJson("abc")).toBe('"abc"');
  });

  it("sorts object keys by UTF-16 code units, not by locale or code point", () => {
    // Upper case (0x41..) before lower case (0x61..), digits before both, "" first.
    expect(canonicalJson({ b: 1, a: 2, B: 3, A: 4, "1": 5, "": 6, aa: 7 })).toBe('{"":6,"1":5,"A":4,"B":3,"a":2,"aa":7,"b":1}');
    // U+FF21 (a BMP character) sorts after U+1F600 written as the surrogate pair D83D DE00,
    // though by code point it would come first.
    const bmp = "\uFF21", astral = "\u{1F600}";
    expect(canonicalJson({ [bmp]: 1, [astral]: 2 })).toBe(`{"${astral}":2,"${bmp}":1}`);
    // A locale sort would put "é" next to "e"; code units put it after "z".
    expect(canonicalJson({ z: 1, "é": 2, e: 3 })).toBe('{"e":3,"z":1,"é":2}');
  });

  it("is independent of the order keys were inserted in", () => {
    const one = { x: { b: [1, { d: 1, c: 2 }], a: null }, w: "w" };
    const two = { w: "w", x: { a: null, b: [1, { c: 2, d: 1 }] } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(canonicalJson(one)).toBe('{"w":"w","x":{"a":null,"b":[1,{"c":2,"d":1}]}}');
  });

  it("keeps array order and nests arrays and objects without whitespace", () => {
    expect(canonicalJson([])).toBe("[]");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson([3, 1, 2])).toBe("[3,1,2]");
    expect(canonicalJson([[], [[]], {}, [{}], { a: [] }])).toBe('[[],[[]],{},[{}],{"a":[]}]');
    expect(canonicalJson({ a: [{ c: [true, null, "s"], b: {} }] })).toBe('{"a":[{"b":{},"c":[true,null,"s"]}]}');
  });

  it("escapes strings exactly as JSON requires and no more", () => {
    expect(canonicalJson('"')).toBe('"\\""');
    expect(canonicalJson("\\")).toBe('"\\\\"');
    expect(canonicalJson("\b\t\n\f\r")).toBe('"\\b\\t\\n\\f\\r"');
    expect(canonicalJson("\u0000\u0001\u000b\u001f")).toBe('"\\u0000\\u0001\\u000b\\u001f"');
    // Not escaped: "/", U+007F, U+2028/2029, non-ASCII, astral characters.
    expect(canonicalJson("/\u007f\u2028\u2029é日本\u{1F600}")).toBe('"/\u007f\u2028\u2029é日本\u{1F600}"');
    // Lone surrogates as lower-case \uXXXX escapes.
    expect(canonicalJson("\ud800")).toBe('"\\ud800"');
    expect(canonicalJson("a\udfffb")).toBe('"a\\udfffb"');
    // Keys are escaped the same way.
    expect(canonicalJson({ 'k"\n': 1 })).toBe('{"k\\"\\n":1}');
  });

  it("writes integers within ±(2^53 − 1) without exponent or fraction", () => {
    expect(canonicalJson([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e20 / 1e5, 1.0])).toBe(
      "[9007199254740991,-9007199254740991,1000000000000000,1]");
    expect(canonicalJson(1763712000000)).toBe("1763712000000");
  });

  it("writes -0 as 0", () => {
    expect(canonicalJson(-0)).toBe("0");
    expect(canonicalJson({ a: [-0] })).toBe('{"a":[0]}');
  });

  it.each([
    ["a fraction", 1.5],
    ["a tiny fraction", 0.1],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["2^53", 2 ** 53],
    ["-(2^53)", -(2 ** 53)],
    ["1e300", 1e300],
  ])("refuses %s, wherever it is", (_name, n) => {
    expect(() => canonicalJson(n)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: { b: [n] } })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson([1, n])).toThrow(/integers/);
  });

  it("refuses what is not JSON at all", () => {
    expect(() => canonicalJson(undefined)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(() => 1)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(10n)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(Symbol("s"))).toThrow(CanonicalJsonError);
    // Inside an array there is no "absent": undefined is refused, not turned into null.
    expect(() => canonicalJson([undefined])).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ n: 2n })).toThrow(/bigint/);
  });

  it("skips fields that are absent (undefined)", () => {
    expect(canonicalJson({ a: undefined })).toBe("{}");
    expect(canonicalJson({ b: 1, a: undefined, c: { d: undefined, e: null } })).toBe('{"b":1,"c":{"e":null}}');
    // The signed text of a request without a body has no "content" at all.
    expect(canonicalJson({ method: "GET", content: undefined })).toBe('{"method":"GET"}');
  });

  it("agrees with JSON.stringify for parsed JSON, and is stable under a round trip", () => {
    const text = '{"z":[1,-2,{"y":"\\u00e9\\n","x":null}],"a":{"c":true,"b":false},"__proto__":{"p":1},"":""}';
    const parsed: unknown = JSON.parse(text);
    const out = canonicalJson(parsed);
    expect(out).toBe('{"":"","__proto__":{"p":1},"a":{"b":false,"c":true},"z":[1,-2,{"x":null,"y":"é\\n"}]}');
    expect(canonicalJson(JSON.parse(out))).toBe(out);
  });
});
