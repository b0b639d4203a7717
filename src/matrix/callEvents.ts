import { SessionDescription } from "../protocol/types";
import { jsonBytes, MAX_CONTENT_JSON_BYTES, splitByBytes } from "../util/eventSize";
import { IceCandidate } from "../protocol/types";

/** Contents of the m.call.* events the bridge sends, always version "1".
 *  test/schemas/ checks every one of them against the spec's shapes. */

export type MatrixHangupReason =
  "ice_failed" | "ice_timeout" | "invite_timeout" | "user_hangup" | "user_media_failed" | "user_busy" | "unknown_error";

interface CallEventBase { call_id: string; party_id: string; version: "1" }

export const CALL_INVITE = "m.call.invite";
export const CALL_CANDIDATES = "m.call.candidates";
export const CALL_ANSWER = "m.call.answer";
export const CALL_SELECT_ANSWER = "m.call.select_answer";
export const CALL_REJECT = "m.call.reject";
export const CALL_HANGUP = "m.call.hangup";
export const CALL_NEGOTIATE = "m.call.negotiate";

function base(callId: string, partyId: string): CallEventBase {
  return { call_id: callId, party_id: partyId, version: "1" };
}

export function inviteContent(callId: string, partyId: string, offer: SessionDescription, lifetime: number, invitee: string) {
  return { ...base(callId, partyId), offer: { type: "offer" as const, sdp: offer.sdp }, lifetime, invitee };
}

export function candidatesContent(callId: string, partyId: string, candidates: IceCandidate[]) {
  return { ...base(callId, partyId), candidates: candidates.map(matrixCandidate) };
}

function matrixCandidate(c: IceCandidate) {
  return {
    candidate: c.candidate,
    ...(c.sdpMid != null ? { sdpMid: c.sdpMid } : {}),
    ...(c.sdpMLineIndex != null ? { sdpMLineIndex: c.sdpMLineIndex } : {}),
  };
}

/** `candidates` cut, in order, into runs that each make an m.call.candidates
 *  content Synapse accepts (MAX_CONTENT_JSON_BYTES). A WebCall session event
 *  alone may hold 400 KiB of them. Each candidate is counted with a comma:
 *  one byte too many for the first, on the safe side. */
export function candidateRuns(callId: string, partyId: string, candidates: IceCandidate[]): IceCandidate[][] {
  const empty = jsonBytes(candidatesContent(callId, partyId, []));
  return splitByBytes(candidates, MAX_CONTENT_JSON_BYTES - empty, (c) => jsonBytes(matrixCandidate(c)) + 1);
}

export function answerContent(callId: string, partyId: string, answer: SessionDescription) {
  return { ...base(callId, partyId), answer: { type: "answer" as const, sdp: answer.sdp } };
}

export function selectAnswerContent(callId: string, partyId: string, selectedPartyId: string) {
  return { ...base(callId, partyId), selected_party_id: selectedPartyId };
}

export function rejectContent(callId: string, partyId: string) {
  return base(callId, partyId);
}

export function hangupContent(callId: string, partyId: string, reason: MatrixHangupReason) {
  return { ...base(callId, partyId), reason };
}

export function negotiateContent(callId: string, partyId: string, description: SessionDescription, lifetime: number) {
  return { ...base(callId, partyId), description: { type: description.type, sdp: description.sdp }, lifetime };
}
