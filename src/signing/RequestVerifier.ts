import { DomainError } from "../errors/DomainError";
import { logger } from "../log";
import { CanonicalJsonError } from "./canonicalJson";
import { fromBase64, toBase64, verifyText } from "./ed25519";
import { KeyRing } from "./KeyRing";
import { parseSignatureHeader, signedText } from "./requestSignature";
import { ReplayGuard } from "./ReplayGuard";

const log = logger("signing.verify");

/** A signature's ts may be this far from our clock, either way. */
export const MAX_SKEW_MS = 5 * 60_000;

export interface IncomingRequest {
  method: string;
  /** Path and query as received. */
  uri: string;
  /** The WebCall-Signature header, if any. */
  header: string | undefined;
  /** The parsed JSON body (undefined when there is none). */
  content: unknown;
}

/**
 * Checks the signature on a request from another node. Unsigned requests
 * are allowed (a browser or a node that does not sign): they simply prove
 * nothing. A signature that is present must be right: a malformed header,
 * another destination, a timestamp more than 5 minutes off, an unknown key,
 * a body or URL that does not match, or a signature already used is refused
 * with 401 WEBCALL_BAD_SIGNATURE. Only when the origin's keys cannot be
 * fetched at all does a signature count as unchecked (not as an error).
 */
export class RequestVerifier {
  private readonly replays: ReplayGuard;

  constructor(
    private readonly keyring: KeyRing,
    private readonly destination: string,
    replayCacheSize: number,
    private readonly now: () => number = Date.now,
  ) {
    this.replays = new ReplayGuard(replayCacheSize, 2 * MAX_SKEW_MS);
  }

  /** The origin whose signature checked out, or undefined for an unsigned or uncheckable request. */
  async verify(request: IncomingRequest): Promise<string | undefined> {
    if (request.header === undefined) return undefined;
    const h = parseSignatureHeader(request.header);
    if (typeof h === "string") throw bad(h);
    if (h.destination !== this.destination) throw bad(`this request was signed for ${h.destination}, not ${this.destination}`);
    if (Math.abs(this.now() - h.ts) > MAX_SKEW_MS) throw bad("the signature's ts is more than 5 minutes from this node's clock");
    let text: string;
    try {
      text = signedText({ method: request.method, uri: request.uri, origin: h.origin, destination: h.destination, content: request.content, ts: h.ts });
    } catch (err) {
      if (err instanceof CanonicalJsonError) throw bad(`the body cannot be signed: ${err.message}`);
      throw err;
    }
    const found = await this.keyring.keyFor(h.origin, h.key, h.ts);
    if (found === "unavailable") {
      log.info("could not check a signature: the origin's keys are unavailable", { origin: h.origin });
      return undefined;
    }
    if (found === "unknown") throw bad(`${h.origin} has no key ${h.key} valid at ${h.ts}`);
    if (!verifyText(text, h.sig, found.key)) throw bad("the signature does not match the request");
    // Remember the signature's bytes, not its text: padding or the unused low
    // bits of the last base64 character would otherwise make a replay look new.
    const seen = this.replays.check(h.origin, toBase64(fromBase64(h.sig)!), performance.now());
    if (seen === "replay") throw bad("this signature was already used: sign every request afresh");
    if (seen === "full") throw new DomainError("WEBCALL_UNAVAILABLE", "too many signed requests at once; retry", 5);
    return h.origin;
  }
}

function bad(message: string): DomainError {
  return new DomainError("WEBCALL_BAD_SIGNATURE", message);
}
