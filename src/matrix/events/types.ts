import { CallId, PartyId } from "../../ids/call";
import { EventId, MatrixUserId, RoomId } from "../../ids/matrix";

/**
 * The events the bridge acts on, as the Matrix edge hands them on: checked
 * against their schema (schemas.ts) and turned into these types by parse.ts
 * at the appservice listener, before the call core or the bot sees them.
 * Every id is checked and branded, every size bounded; nothing here is
 * picked out of a raw `content` any more. Imports nothing above src/ids/, so
 * the call core can use these without the listener.
 */

/** What every pushed room event has. */
export interface EventEnvelope {
  eventId: EventId;
  roomId: RoomId;
  sender: MatrixUserId;
  /** How old the event was when the homeserver pushed it (`unsigned.age`, 0 when absent or negative). */
  ageMs: number;
}

/** The VoIP version: "1" (MSC2746, the spec since v1.7) or "0" (the first
 *  spec, an integer 0 on the wire; older clients, some of today's). */
export type VoipVersion = "0" | "1";

export interface SdpOffer { type: "offer"; sdp: string }
export interface SdpAnswer { type: "answer"; sdp: string }
export type SdpDescription = SdpOffer | SdpAnswer;

/** One ICE candidate as m.call.candidates carries it; candidate "" ends them. */
export interface MatrixCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

interface CallEventBase extends EventEnvelope {
  callId: CallId;
  /** The sender's party (device); null for version 0, which has none. */
  partyId: PartyId | null;
  version: VoipVersion;
}

export interface CallInvite extends CallEventBase {
  type: "m.call.invite";
  offer: SdpOffer;
  /** Milliseconds the caller rings for, as the client asked (bounded by the schema, not yet by the bridge's cap). */
  lifetimeMs: number;
  /** Whom the call is for, when the client says (version 1). */
  invitee: MatrixUserId | null;
}

export interface CallAnswer extends CallEventBase {
  type: "m.call.answer";
  answer: SdpAnswer;
}

export interface CallCandidates extends CallEventBase {
  type: "m.call.candidates";
  candidates: MatrixCandidate[];
}

export interface CallHangup extends CallEventBase {
  type: "m.call.hangup";
  /** The client's reason, as sent (the spec's enum, js-sdk's own codes); null when none. */
  reason: string | null;
}

export interface CallReject extends CallEventBase {
  type: "m.call.reject";
}

export interface CallSelectAnswer extends CallEventBase {
  type: "m.call.select_answer";
  selectedPartyId: PartyId;
}

export interface CallNegotiate extends CallEventBase {
  type: "m.call.negotiate";
  description: SdpDescription;
  lifetimeMs: number | null;
}

export type Membership = "invite" | "join" | "leave" | "ban" | "knock";

export interface RoomMember extends EventEnvelope {
  type: "m.room.member";
  /** Whose membership this is (the state_key). */
  target: MatrixUserId;
  membership: Membership;
  /** The invite is for a direct chat (`is_direct`). */
  isDirect: boolean;
}

/** A plain-text message (msgtype m.text): the bot's commands. */
export interface TextMessage extends EventEnvelope {
  type: "m.room.message";
  body: string;
}

export type CallEvent = CallInvite | CallAnswer | CallCandidates | CallHangup | CallReject | CallSelectAnswer | CallNegotiate;
export type MatrixEvent = CallEvent | RoomMember | TextMessage;
export type MatrixEventType = MatrixEvent["type"];

export function isCallEvent(event: MatrixEvent): event is CallEvent {
  return event.type.startsWith("m.call.");
}
