/**
 * Real shapes of the events the bridge acts on: the envelope as Synapse
 * pushes it to an appservice (origin_server_ts, unsigned.age, and for a
 * state event state_key, replaces_state and prev_content), the contents as
 * matrix-js-sdk 43 (node_modules/matrix-js-sdk/src/webrtc/call.ts,
 * sendVoipEvent and friends) and so Element Web send them, and as an older
 * version 0 client sent them.
 */
export const ROOM = "!dmRoomOpaqueId:example.org";
/** Room version 12 (MSC4291): the room id is the create event's hash, with no server part. */
export const ROOM_V12 = "!x8TpnMrGyb1hQ0gKuKYe0oMxY4JxU1dM0iVwCeR9K3M";
export const ALICE = "@alice:example.org";
export const VIRTUAL = "@webcall_alf=40employer.com:example.org";
/** js-sdk's genCallID(): Date.now() and 16 random characters. */
export const JS_SDK_CALL_ID = "1764629000123AbCdEfGhIjKlMnOp";
/** js-sdk's party_id is the client's device id. */
export const DEVICE = "QWERTYUIOP";

export const SDP_OFFER = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n";
export const SDP_ANSWER = SDP_OFFER.replace("4611731400430051336", "8123456789012345678");

let n = 0;
/** The envelope Synapse pushes around a content. */
export function pushed(type: string, content: object, extra: object = {}) {
  return {
    type, content, room_id: ROOM, sender: ALICE, event_id: `$ev${++n}-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789`,
    origin_server_ts: 1764629000123, unsigned: { age: 37, transaction_id: `m1764629000123.${n}` }, ...extra,
  };
}

/** What js-sdk adds to every m.call.* content (conf_id only in group calls). */
export const voip = { version: "1", call_id: JS_SDK_CALL_ID, party_id: DEVICE };
const metadata = { "org.matrix.msc3077.sdp_stream_metadata": { "stream-abc": { purpose: "m.usermedia", audio_muted: false, video_muted: true } } };
const capabilities = { capabilities: { "m.call.transferee": false, "m.call.dtmf": false } };

export const jsSdk = {
  invite: () => pushed("m.call.invite", { lifetime: 60000, offer: { type: "offer", sdp: SDP_OFFER }, ...capabilities, ...metadata, ...voip }),
  directInvite: () => pushed("m.call.invite", { lifetime: 60000, offer: { type: "offer", sdp: SDP_OFFER }, invitee: VIRTUAL, ...capabilities, ...metadata, ...voip }),
  answer: () => pushed("m.call.answer", { answer: { type: "answer", sdp: SDP_ANSWER }, ...capabilities, ...metadata, ...voip }),
  /** candidate.toJSON() in a browser, then the empty end-of-candidates marker. */
  candidates: () => pushed("m.call.candidates", {
    candidates: [
      { candidate: "candidate:842163049 1 udp 1677729535 203.0.113.5 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag hX3e network-cost 999", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "hX3e" },
      { candidate: "" },
    ],
    ...voip,
  }),
  hangup: () => pushed("m.call.hangup", { reason: "user_hangup", ...voip }),
  /** js-sdk's own code, not in the spec's enum. */
  hangupReplaced: () => pushed("m.call.hangup", { reason: "replaced", ...voip }),
  hangupNoReason: () => pushed("m.call.hangup", { ...voip }),
  reject: () => pushed("m.call.reject", { ...voip }),
  selectAnswer: () => pushed("m.call.select_answer", { selected_party_id: "bridgeParty12", ...voip }),
  negotiate: () => pushed("m.call.negotiate", { description: { type: "offer", sdp: SDP_OFFER }, lifetime: 60000, ...metadata, ...voip }),
  groupCallAnswer: () => pushed("m.call.answer", { answer: { type: "answer", sdp: SDP_ANSWER }, ...voip, conf_id: "conf123" }),
};

/** An older client: version 0 as an integer, no party_id. */
export const version0 = {
  invite: () => pushed("m.call.invite", { call_id: "c1764629000123", version: 0, lifetime: 60000, offer: { type: "offer", sdp: SDP_OFFER } }),
  answer: () => pushed("m.call.answer", { call_id: "c1764629000123", version: 0, answer: { type: "answer", sdp: SDP_ANSWER } }),
  hangup: () => pushed("m.call.hangup", { call_id: "c1764629000123", version: 0 }),
  stringZero: () => pushed("m.call.hangup", { call_id: "c1764629000123", version: "0" }),
};

/** Membership as Synapse pushes it. */
export const member = {
  join: () => pushed("m.room.member", { membership: "join", displayname: "Alice", avatar_url: null },
    { state_key: ALICE, unsigned: { age: 12, replaces_state: "$prevMember", prev_content: { membership: "invite" } } }),
  leave: () => pushed("m.room.member", { membership: "leave" }, { state_key: ALICE }),
  kick: () => pushed("m.room.member", { membership: "leave", reason: "bye" }, { state_key: VIRTUAL }),
  ban: () => pushed("m.room.member", { membership: "ban" }, { state_key: VIRTUAL }),
  inviteVirtual: () => pushed("m.room.member", { membership: "invite", is_direct: true, displayname: "alf@employer.com" }, { state_key: VIRTUAL }),
};

/** Element's plain-text message to the bot. */
export const message = () => pushed("m.room.message", { msgtype: "m.text", body: "allow alf@employer.com", "m.mentions": {} });
