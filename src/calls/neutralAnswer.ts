import { SetupResponse } from "../webcall/protocol";
import { MonotonicClock } from "../util/monotonicClock";

/**
 * Neutral refusal, in one place: runs a setup's routing and holds every
 * answer but a success until `deadline`, a point on `clock` fixed when the
 * request arrived. Refused by rules, unknown, offline, a forwarding loop, a
 * relay that failed: each path only returns could_not_attend, and none of
 * them can answer early, because none of them does the waiting. A failure
 * thrown on the way is held too, so how far the routing got before it failed
 * (past the rules, say) does not show in when the error arrives.
 */
export async function answerNeutrally(clock: MonotonicClock, deadline: number,
  route: () => Promise<SetupResponse>): Promise<SetupResponse> {
  let response: SetupResponse;
  try {
    response = await route();
  } catch (err) {
    await clock.sleepUntil(deadline);
    throw err;
  }
  if (response.status !== "success") await clock.sleepUntil(deadline);
  return response;
}
