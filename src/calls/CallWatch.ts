import { Leg } from "../model/leg";
import { InboundSession, Session } from "../model/session";

/**
 * Told what happens to one inbound session as it rings (a rota's room
 * notices use it, src/calls/RotaWatch.ts). Kept in memory (LiveCalls); a
 * rota call's is built again from the store when the core resumes. Each
 * call is fire-and-forget: a watcher never delays or fails the call it
 * watches.
 */
export interface CallWatcher {
  /** A step's legs are ringing (told once their invites are out): the first
   *  step (`previous` empty), or the next after `previous` ended unanswered
   *  (timed out, declined, failed). */
  stepRinging(session: InboundSession, ringing: readonly Leg[], previous: readonly Leg[]): void;
  /** `leg` answered and connected the session. */
  answered(session: Session, leg: Leg): void;
  /** The session ended before anyone answered (`event`: the table's). */
  endedUnanswered(session: Session, event: "hangup" | "expire" | "unanswered" | "glare_lost"): void;
}
