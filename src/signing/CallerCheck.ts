import { logger } from "../log";
import { Address, domainOf, tryParseAddress } from "../ids/address";
import { CallerIdentity, UNVERIFIED } from "../model/callerIdentity";
import { Hop } from "../protocol/types";
import { Authority } from "./Authority";
import { hopText, PLACED } from "./chain";
import { verifyText } from "./ed25519";
import { KeyRing } from "./KeyRing";
import { MAX_SKEW_MS } from "./RequestVerifier";

const log = logger("signing.caller");

/** A hop older than the longest call lifetime plus the clock skew cannot belong to a live call. */
const MAX_HOP_AGE_MS = 10 * 60_000 + MAX_SKEW_MS;

/** The identity, and the chain that proved it (empty when it proved nothing),
 *  for a forwarding node to extend. */
export interface CheckedCaller {
  identity: CallerIdentity;
  chain: readonly Hop[];
}

export interface CallerClaim {
  caller: Address | null;
  callee: Address;
  /** The origin whose request signature checked out; undefined when unsigned or uncheckable. */
  signer: string | undefined;
  chain: readonly Hop[] | undefined;
}

/**
 * Decides whether a call's callerId is proven (WebCall/1 §5). Directly: the
 * request is signed by the node that speaks for the caller's domain. Through
 * forwarding: every hop of the chain is signed by the node that speaks for
 * the address it forwards from, each hop continues the one before, the last
 * hop reaches this callee and was added by the node that signed the request,
 * and the first hop comes from the caller. A chain that fails any of this
 * proves nothing: the caller is unverified. Never an error.
 */
export class CallerCheck {
  constructor(private readonly keyring: KeyRing, private readonly authority: Authority, private readonly now: () => number = Date.now) {}

  async identify(claim: CallerClaim): Promise<CheckedCaller> {
    const { caller, signer } = claim;
    const chain = claim.chain ?? [];
    if (signer === undefined) return { identity: UNVERIFIED, chain: [] };
    if (chain.length > 0) {
      const broken = await this.brokenLink(chain, claim.callee, signer);
      if (broken) {
        log.info("a forwarding chain does not hold; the caller is unverified", { signer, caller, why: broken });
        return { identity: UNVERIFIED, chain: [] };
      }
    }
    const placed = chain.length > 0 && caller !== null && same(chain[0]!.from, caller);
    // The hop a caller's node starts the chain with is not a forward.
    const startsPlaced = chain.length > 0 && (placed || chain[0]!.reason === PLACED);
    const forwards = chain.slice(startsPlaced ? 1 : 0).map((h) => ({ by: h.by.toLowerCase(), reason: h.reason }));
    if (caller === null) return { identity: { verified: false, forwards }, chain };
    if (placed) return { identity: { verified: true, verifiedBy: chain[0]!.by.toLowerCase(), forwards }, chain };
    if (await this.authority.speaksFor(signer, domainOf(caller))) return { identity: { verified: true, verifiedBy: signer, forwards }, chain };
    return { identity: { verified: false, forwards }, chain };
  }

  /** Why the chain does not hold, or undefined when it does. */
  private async brokenLink(chain: readonly Hop[], callee: Address, signer: string): Promise<string | undefined> {
    const now = this.now();
    for (const [i, hop] of chain.entries()) {
      const by = hop.by.toLowerCase();
      if (hop.ts > now + MAX_SKEW_MS || hop.ts < now - MAX_HOP_AGE_MS) return `hop ${i + 1} is too old or in the future`;
      if (i > 0 && !same(chain[i - 1]!.to, hop.from)) return `hop ${i + 1} does not continue hop ${i}`;
      // A hop added by the node that signed this request is vouched for by
      // that signature, which covers the whole body; its own signature is
      // for the nodes further on, which check it themselves.
      if (by !== signer) {
        const found = await this.keyring.keyFor(by, hop.key, hop.ts);
        if (typeof found === "string") return `hop ${i + 1}: ${by}'s key ${hop.key} is ${found}`;
        if (!verifyText(hopText(hop, chain.slice(0, i)), hop.sig, found.key)) return `hop ${i + 1}'s signature does not match`;
      }
      const from = address(hop.from);
      if (!from || !(await this.authority.speaksFor(by, domainOf(from)))) return `hop ${i + 1}: ${by} does not speak for ${hop.from}`;
    }
    const last = chain[chain.length - 1]!;
    if (!same(last.to, callee)) return "the last hop does not reach this callee";
    if (last.by.toLowerCase() !== signer) return "the last hop was not added by the node that signed the request";
    return undefined;
  }
}

function address(text: string): Address | undefined {
  return tryParseAddress(text) ?? undefined;
}

/** Two addresses are the same with the domain compared case-insensitively. */
function same(a: string, b: string): boolean {
  const x = address(a), y = address(b);
  return x !== undefined && x === y;
}
