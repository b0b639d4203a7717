import { canonicalJson } from "./canonicalJson";
import { KEY_ID, UNPADDED_BASE64 } from "./ed25519";

/**
 * The signature every node-to-node request carries (docs/webcall-signing.md):
 *
 *   WebCall-Signature: origin="a.example",destination="b.example",key="ed25519:k1",ts="1763712000000",sig="<base64>"
 *
 * `sig` is the origin's Ed25519 signature over the canonical JSON of
 * {method, uri, origin, destination, content, ts}, where uri is the request's
 * path and query as sent and content is the JSON body (absent when there is none).
 */

export const SIGNATURE_HEADER = "WebCall-Signature";

/** The largest header accepted: five short fields and a 64-byte signature. */
const MAX_HEADER = 1024;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const TS = /^[0-9]{1,16}$/;

export interface RequestToSign {
  method: string;
  /** Path and query, e.g. `/webcall/sessions/abc/events`. */
  uri: string;
  origin: string;
  destination: string;
  /** The parsed JSON body; undefined when the request has none. */
  content?: unknown;
  /** ms since the epoch */
  ts: number;
}

export interface SignatureHeader {
  origin: string;
  destination: string;
  key: string;
  ts: number;
  sig: string;
}

/** The exact text that is signed. */
export function signedText(request: RequestToSign): string {
  return canonicalJson({
    method: request.method.toUpperCase(), uri: request.uri, origin: request.origin.toLowerCase(),
    destination: request.destination.toLowerCase(), content: request.content, ts: request.ts,
  });
}

export function formatSignatureHeader(h: SignatureHeader): string {
  return `origin="${h.origin}",destination="${h.destination}",key="${h.key}",ts="${h.ts}",sig="${h.sig}"`;
}

/** The header's fields, or a reason it cannot be read. Each field exactly once;
 *  values may be quoted; names are case-insensitive. */
export function parseSignatureHeader(value: string): SignatureHeader | string {
  if (value.length > MAX_HEADER) return "the signature header is too long";
  const fields = new Map<string, string>();
  for (const part of value.split(",")) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^\s"]*))\s*$/.exec(part);
    if (!m) return "the signature header is malformed";
    const name = m[1]!.toLowerCase();
    if (fields.has(name)) return `the signature header names ${name} twice`;
    fields.set(name, m[2] ?? m[3] ?? "");
  }
  const origin = fields.get("origin"), destination = fields.get("destination"), key = fields.get("key");
  const ts = fields.get("ts"), sig = fields.get("sig");
  if (origin === undefined || destination === undefined || key === undefined || ts === undefined || sig === undefined) {
    return "the signature header needs origin, destination, key, ts and sig";
  }
  if (!DOMAIN.test(origin) || !DOMAIN.test(destination)) return "the signature header's origin and destination must be domains";
  if (!KEY_ID.test(key)) return "the signature header's key must look like ed25519:abc";
  if (!TS.test(ts)) return "the signature header's ts must be ms since the epoch";
  if (!UNPADDED_BASE64.test(sig.replace(/=+$/, ""))) return "the signature header's sig must be base64";
  return { origin: origin.toLowerCase(), destination: destination.toLowerCase(), key, ts: Number(ts), sig };
}
