/**
 * Who is calling, as far as signatures prove it: what src/signing/CallerCheck
 * works out, the store keeps with a call (caller_identity) and the call core
 * shows in names and notices. It lives here, below all three, so none of
 * them imports another for it.
 */
export interface CallerIdentity {
  verified: boolean;
  /** The node that vouched for the caller (set when verified). */
  verifiedBy?: string;
  /** Nodes that forwarded the call on its way here, oldest first, with their reasons. */
  forwards: { by: string; reason: string }[];
  /** A name the caller typed (the setup's `callerName`): nothing proves it, so
   *  it is only ever shown quoted and marked unverified, never decided on. */
  nameHint?: string;
}

export const UNVERIFIED: CallerIdentity = Object.freeze({ verified: false, forwards: [] }) as CallerIdentity;
