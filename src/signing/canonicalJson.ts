/**
 * Canonical JSON, as Matrix defines it for signing: object keys sorted by
 * their UTF-16 code units, no insignificant whitespace, strings escaped the
 * way JSON.stringify escapes them (only `"`, `\` and U+0000–U+001F, short
 * forms where JSON has them, lone surrogates as lower-case \uXXXX), and
 * numbers only as integers within ±(2^53 − 1). Two nodes that parse the same
 * JSON text therefore sign and verify the very same bytes.
 */

export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) throw new CanonicalJsonError(`only integers within ±(2^53 − 1) can be signed (got ${value})`);
      return Object.is(value, -0) ? "0" : String(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const keys = Object.keys(value).sort();
      const parts: string[] = [];
      for (const key of keys) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined) continue; // as JSON.stringify: an absent field
        parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new CanonicalJsonError(`a ${typeof value} is not JSON`);
  }
}
