import { Hop } from "../protocol/types";
import { canonicalJson } from "./canonicalJson";
import { NodeKeys } from "./NodeKeys";

/**
 * The forwarding chain (docs/webcall-signing.md §4), ARC-like: each node that
 * passes a call on appends a hop {by, from, to, reason, ts} and signs it
 * together with every hop before it, so no hop can be dropped, reordered or
 * altered without breaking a signature. The caller's own node starts the
 * chain with a hop from the caller to the first callee.
 */

export type HopStep = Pick<Hop, "by" | "from" | "to" | "reason" | "ts">;

/** The reason the caller's node gives for the first hop. */
export const PLACED = "placed";

/** The exact text a hop's signature covers. */
export function hopText(step: HopStep, prior: readonly Hop[]): string {
  return canonicalJson({ hop: { by: step.by, from: step.from, to: step.to, reason: step.reason, ts: step.ts }, prior });
}

/** Appends this node's signed hop to `prior`. */
export function extendChain(keys: NodeKeys, prior: readonly Hop[], step: { from: string; to: string; reason: string; ts: number }): Hop[] {
  const full: HopStep = { by: keys.origin, ...step };
  const { key, sig } = keys.sign(hopText(full, prior));
  return [...prior, { ...full, key, sig }];
}
