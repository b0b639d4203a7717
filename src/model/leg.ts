import { Brand } from "../ids/brand";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";

/** A Matrix call_id. A direct inbound call's single leg, and an outbound
 *  call's, use the session id; later legs get their own. */
export type LegId = Brand<string, "LegId">;

/** See docs/call-states.md. */
export type LegState = "queued" | "preparing" | "awaiting_join" | "ringing" | "connected" | "ended";

export const LIVE_LEG_STATES: readonly LegState[] = ["queued", "preparing", "awaiting_join", "ringing", "connected"];
export const UNANSWERED_LEG_STATES: readonly LegState[] = ["queued", "preparing", "awaiting_join", "ringing"];

/**
 * One Matrix call that belongs to a session: in one DM, between one Matrix
 * user and the virtual user standing for the WebCall party. An inbound
 * session may have several, rung one after another or all at once
 * (`position` orders them); the first answer on any of them connects the
 * session and ends the others as answered elsewhere.
 */
export interface Leg {
  callId: LegId;
  sessionId: SessionId;
  /** 0, 1, 2 … the order legs are rung in. */
  position: number;
  /** The ringing step the leg belongs to (ascending with position): legs of
   *  one step ring at once (a rota's "then all"); a direct call's legs are
   *  each their own step. */
  step: number;
  /** In sequence, when the leg's step ends if nobody answers (ms since the
   *  epoch): kept, so a restart goes on with the step's time left. null
   *  while the leg waits its turn, or when every leg rings at once. */
  stepEndsAt: number | null;
  state: LegState;
  matrixUserId: MatrixUserId;
  virtualUserId: MatrixUserId;
  /** null until the DM is known (first contact). */
  roomId: RoomId | null;
  /** The party_id the bridge uses as the virtual user. */
  bridgePartyId: string;
  /** The Matrix user's device: the selected answer's (inbound) or the
   *  inviting one's (outbound). null until known, or for version 0. */
  matrixPartyId: string | null;
  /** The VoIP version of the Matrix user's events: "0" or "1". */
  matrixVersion: string;
  endReason: string | null;
}

export function isLiveLeg(leg: Pick<Leg, "state">): boolean {
  return leg.state !== "ended";
}

/** A leg not yet rung: its own step (the position) unless told otherwise. */
export function newLeg(l: Omit<Leg, "endReason" | "step" | "stepEndsAt"> & Partial<Pick<Leg, "step" | "stepEndsAt">>): Leg {
  return { step: l.position, stepEndsAt: null, ...l, endReason: null };
}

export interface LegPatch {
  state?: LegState;
  roomId?: RoomId;
  matrixPartyId?: string | null;
  matrixVersion?: string;
  endReason?: string;
  stepEndsAt?: number | null;
}

/** The pair mutex key of a leg: calls between one Matrix user and one WebCall
 *  party share a DM, so glare decisions from either side never interleave. */
export function pairKey(matrixUserId: string, virtualUserId: string): string {
  return `${matrixUserId}|${virtualUserId}`;
}
