/** WebCall/1 bodies as they are after schema validation (see schemas/). */

/** A WebRTC session description as both protocols carry it. */
export interface SessionDescription {
  type: "offer" | "answer";
  sdp: string;
}

export interface SetupRequest {
  callerId?: string;
  /** A name the caller typed: a display hint, unverified (never an identity). */
  callerName?: string;
  calleeId: string;
  sessionId?: string;
  token?: string;
  offer?: SessionDescription;
  lifetime?: number;
  notify?: string;
  via?: string[];
  chain?: Hop[];
}

/** One signed step of a forwarding chain (docs/webcall-signing.md). */
export interface Hop {
  by: string;
  from: string;
  to: string;
  reason: string;
  ts: number;
  key: string;
  sig: string;
}

export type SetupResponse =
  | { status: "success"; sessionId: string; token: string; offer?: SessionDescription }
  | { status: "could_not_attend" };

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  /** Browsers' toJSON() includes it; Matrix has no field for it, so it is not passed on. */
  usernameFragment?: string | null;
}

export type HangupReason =
  | "user_hangup" | "could_not_attend" | "invite_timeout" | "ice_failed" | "answered_elsewhere" | "unknown_error";

export type SessionEvent =
  | { id: string; type: "answer"; answer: SessionDescription }
  | { id: string; type: "candidates"; candidates: IceCandidate[] }
  | { id: string; type: "hangup"; reason: HangupReason }
  | { id: string; type: "replace"; sessionId: string; offer: SessionDescription }
  | { id: string; type: "negotiate"; description: SessionDescription };

/** The same events before the sender gives them an id. */
export type SessionEventBody = SessionEvent extends infer E ? E extends { id: string } ? Omit<E, "id"> : never : never;

/** `GET {endpoint}/keys`: what a node publishes so others can check its signatures. */
export interface KeysDocument {
  /** The domain the node signs as (`origin`). */
  node: string;
  /** Until when (ms since the epoch) others may rely on this answer without asking again. */
  valid_until: number;
  verify_keys: Record<string, { key: string }>;
  /** Retired keys: valid for signatures made at or before `expired_ts`. */
  old_verify_keys: Record<string, { key: string; expired_ts: number }>;
}
