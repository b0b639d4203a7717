import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { Leg } from "../model/leg";
import { InboundSession, Session } from "../model/session";

/** A rota member on another node, rung by relay at its step (./RemoteMembers.ts). */
export interface RemoteRung {
  address: Address;
  endReason: string | null;
  step: number;
}

/** Someone a step rang: a Matrix user's leg, or a member on another node. */
export type Rung = Leg | RemoteRung;

/** The member a rung stands for, as people write them. */
export function rungName(r: Rung): MatrixUserId | Address {
  return "address" in r ? r.address : r.matrixUserId;
}

/**
 * Told what happens to one inbound session as it rings (a rota's room
 * notices use it, src/calls/RotaWatch.ts). Kept in memory (LiveCalls); a
 * rota call's is built again from the store when the core resumes. Each
 * call is fire-and-forget: a watcher never delays or fails the call it
 * watches.
 */
export interface CallWatcher {
  /** A step is ringing (told once its invites are out): the first step
   *  (`previous` empty), or the next after `previous` ended unanswered
   *  (timed out, declined, failed). */
  stepRinging(session: InboundSession, ringing: readonly Rung[], previous: readonly Rung[]): void;
  /** `by` answered and connected the session. */
  answered(session: Session, by: Rung): void;
  /** The session ended before anyone answered (`event`: the table's). */
  endedUnanswered(session: Session, event: "hangup" | "expire" | "unanswered" | "glare_lost"): void;
}
