/**
 * What a request body's Content-Type must be: `application/json`, with no
 * charset or `charset=utf-8` (JSON on the wire is UTF-8, RFC 8259 §8.1).
 * The body parser would decode any `utf-*` charset it knows (utf-16le
 * included), so the check is made here, before it reads anything.
 */

const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;|$)/i;

/** undefined when the header is acceptable, else why not (for a 415). */
export function jsonContentTypeProblem(header: string | undefined): string | undefined {
  if (header === undefined || !JSON_MEDIA_TYPE.test(header)) return "Content-Type must be application/json";
  // Parameters other than charset are ignored, as the body parser does.
  for (const param of header.split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
    if (charset !== "utf-8") return `Content-Type charset must be utf-8, not ${JSON.stringify(charset.slice(0, 40))}`;
  }
  return undefined;
}
