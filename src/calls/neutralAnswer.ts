import { SetupResponse } from "../protocol/types";
import { MonotonicClock } from "../util/monotonicClock";

/**
 * How much of a request's proof-checking time moves its deadline: whole
 * steps of this only. Measured wall time includes event-loop delay caused
 * by other requests' callee-dependent work; a few milliseconds of that must
 * never show in when this answer comes, while a slow key fetch still leaves
 * the homeserver all but one step of its time to confirm the callee.
 */
export const PROOF_STEP_MS = 100;

/** The part of `proofMs` a deadline is moved by. */
export function proofAllowance(proofMs: number): number {
  return Math.floor(proofMs / PROOF_STEP_MS) * PROOF_STEP_MS;
}

/**
 * Resolves once the event loop has run its waiting I/O callbacks. A setup's
 * routing (store reads, the homeserver lookup) is work that depends on the
 * callee, and on PGlite it runs on this thread: started straight away, it
 * would hold back the arrival stamp of every request already waiting behind
 * it, so a burst to unknown callees would be answered later, as seen from
 * outside, than one to refusing callees. setImmediate runs after the poll
 * phase, so every request waiting is stamped first.
 */
function afterWaitingArrivals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Neutral refusal, in one place: runs a setup's routing and holds every
 * answer but a success until `deadline`, a point on `clock` fixed when the
 * request arrived. Refused by rules, unknown, offline, a forwarding loop, a
 * relay that failed: each path only returns could_not_attend, and none of
 * them can answer early, because none of them does the waiting. A failure
 * thrown on the way is held too, so how far the routing got before it failed
 * (past the rules, say) does not show in when the error arrives. The routing
 * starts only after the requests already waiting are stamped.
 */
export async function answerNeutrally(clock: MonotonicClock, deadline: number,
  route: () => Promise<SetupResponse>): Promise<SetupResponse> {
  let response: SetupResponse;
  try {
    await afterWaitingArrivals();
    response = await route();
  } catch (err) {
    await clock.sleepUntil(deadline);
    throw err;
  }
  if (response.status !== "success") await clock.sleepUntil(deadline);
  return response;
}
