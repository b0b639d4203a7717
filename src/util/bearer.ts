/**
 * The token of an `Authorization: Bearer <token>` header, or undefined when
 * the header is absent or of another scheme. The scheme is case-insensitive
 * (RFC 7235 §2.1: `bearer`, `BEARER` are `Bearer`), and one or more spaces
 * may separate it from the token (RFC 7235's `1*SP`). Every listener uses
 * this one parser, so they agree on what a bearer token is.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = BEARER.exec(header);
  return match ? match[1] : undefined;
}

/** Node trims the header value; a trailing run of spaces is still allowed for clients that add one. */
const BEARER = /^Bearer +(\S+) *$/i;
