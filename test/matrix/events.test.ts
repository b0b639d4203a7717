import { parseEvent, Parsed } from "../../src/matrix/events/parse";
import { MAX_CANDIDATES, MAX_SDP_CHARS } from "../../src/matrix/events/schemas";
import {
  ALICE, DEVICE, JS_SDK_CALL_ID, ROOM, ROOM_V12, SDP_ANSWER, SDP_OFFER, VIRTUAL, jsSdk, member, message, pushed, version0, voip,
} from "./eventShapes";

const parse = (raw: object): Parsed => parseEvent(raw as Record<string, unknown>);

function accepted(raw: object) {
  const parsed = parse(raw);
  if (parsed.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(parsed)}`);
  return parsed.event;
}

function refusal(raw: object): string {
  const parsed = parse(raw);
  if (parsed.kind !== "refused") throw new Error(`expected a refusal, got ${parsed.kind}`);
  return parsed.reason;
}

const envelope = { roomId: ROOM, sender: ALICE, ageMs: 37, eventId: expect.stringMatching(/^\$ev/) };
const call = { ...envelope, callId: JS_SDK_CALL_ID, partyId: DEVICE, version: "1" };

describe("events the bridge acts on, as they are sent, are accepted and typed", () => {
  it.each([
    ["js-sdk invite", jsSdk.invite(), { ...call, type: "m.call.invite", offer: { type: "offer", sdp: SDP_OFFER }, lifetimeMs: 60000, invitee: null }],
    ["js-sdk invite with invitee", jsSdk.directInvite(), { ...call, type: "m.call.invite", invitee: VIRTUAL }],
    ["js-sdk answer", jsSdk.answer(), { ...call, type: "m.call.answer", answer: { type: "answer", sdp: SDP_ANSWER } }],
    ["js-sdk group call answer (conf_id)", jsSdk.groupCallAnswer(), { ...call, type: "m.call.answer" }],
    ["js-sdk candidates with the end marker", jsSdk.candidates(), {
      ...call, type: "m.call.candidates",
      candidates: [
        { candidate: expect.stringContaining("typ srflx"), sdpMid: "0", sdpMLineIndex: 0 },
        { candidate: "", sdpMid: null, sdpMLineIndex: null },
      ],
    }],
    ["js-sdk hangup", jsSdk.hangup(), { ...call, type: "m.call.hangup", reason: "user_hangup" }],
    ["js-sdk hangup 'replaced'", jsSdk.hangupReplaced(), { type: "m.call.hangup", reason: "replaced" }],
    ["hangup without a reason", jsSdk.hangupNoReason(), { type: "m.call.hangup", reason: null }],
    ["js-sdk reject", jsSdk.reject(), { ...call, type: "m.call.reject" }],
    ["js-sdk select_answer", jsSdk.selectAnswer(), { ...call, type: "m.call.select_answer", selectedPartyId: "bridgeParty12" }],
    ["js-sdk negotiate", jsSdk.negotiate(), { ...call, type: "m.call.negotiate", description: { type: "offer", sdp: SDP_OFFER }, lifetimeMs: 60000 }],
    ["version 0 invite (integer 0, no party_id)", version0.invite(), { type: "m.call.invite", version: "0", partyId: null, callId: "c1764629000123" }],
    ["version 0 answer", version0.answer(), { type: "m.call.answer", version: "0", partyId: null }],
    ["version 0 hangup", version0.hangup(), { type: "m.call.hangup", version: "0", reason: null }],
    ["version \"0\" as a string", version0.stringZero(), { type: "m.call.hangup", version: "0" }],
    ["join (Synapse's unsigned.prev_content)", member.join(), { ...envelope, ageMs: 12, type: "m.room.member", target: ALICE, membership: "join", isDirect: false }],
    ["leave", member.leave(), { type: "m.room.member", target: ALICE, membership: "leave" }],
    ["kick of the virtual user", member.kick(), { type: "m.room.member", target: VIRTUAL, membership: "leave" }],
    ["ban", member.ban(), { type: "m.room.member", target: VIRTUAL, membership: "ban" }],
    ["DM invite of a virtual user", member.inviteVirtual(), { type: "m.room.member", target: VIRTUAL, membership: "invite", isDirect: true }],
    ["Element's m.text", message(), { ...envelope, type: "m.room.message", body: "allow alf@employer.com" }],
    ["a room id of room version 12", { ...jsSdk.hangup(), room_id: ROOM_V12 }, { roomId: ROOM_V12 }],
    ["a historical user id", { ...jsSdk.hangup(), sender: "@Alice.Old:example.org" }, { sender: "@Alice.Old:example.org" }],
    ["no unsigned: age 0", { ...jsSdk.hangup(), unsigned: undefined }, { ageMs: 0 }],
    ["an SDP of exactly the largest size", pushed("m.call.answer", { ...voip, answer: { type: "answer", sdp: "a".repeat(MAX_SDP_CHARS) } }), { type: "m.call.answer" }],
    ["the most candidates", pushed("m.call.candidates", { ...voip, candidates: Array.from({ length: MAX_CANDIDATES }, () => ({ candidate: "" })) }), { type: "m.call.candidates" }],
    ["a call_id of 255 characters", pushed("m.call.hangup", { ...voip, call_id: "c".repeat(255) }), { callId: "c".repeat(255) }],
  ])("%s", (_name, raw, typed) => {
    expect(accepted(raw)).toMatchObject(typed);
  });

  it("passes on only the candidate fields Matrix defines (not usernameFragment)", () => {
    const event = accepted(jsSdk.candidates());
    expect(event.type === "m.call.candidates" && event.candidates[0]).toEqual({
      candidate: expect.any(String), sdpMid: "0", sdpMLineIndex: 0,
    });
  });

  it("keeps no raw content: only typed fields", () => {
    expect(Object.keys(accepted(jsSdk.answer())).sort()).toEqual(["ageMs", "answer", "callId", "eventId", "partyId", "roomId", "sender", "type", "version"]);
  });
});

describe("events the bridge does not act on are ignored without a word", () => {
  it.each([
    ["a notice", pushed("m.room.message", { msgtype: "m.notice", body: "hi" })],
    ["an image", pushed("m.room.message", { msgtype: "m.image", body: "cat.png", url: "mxc://x/y" })],
    ["a redacted message", pushed("m.room.message", {})],
    ["a reaction", pushed("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: "$x", key: "👍" } })],
    ["sdp_stream_metadata_changed", pushed("m.call.sdp_stream_metadata_changed", { ...voip })],
    ["asserted_identity", pushed("m.call.asserted_identity", { ...voip, asserted_identity: { id: "x" } })],
    ["a room name", pushed("m.room.name", { name: "x" }, { state_key: "" })],
  ])("%s", (_name, raw) => {
    expect(parse(raw)).toEqual({ kind: "ignored" });
  });
});

describe("malformed events are refused with a reason", () => {
  const answer = (content: object) => pushed("m.call.answer", { ...voip, answer: { type: "answer", sdp: SDP_ANSWER }, ...content });
  const candidates = (list: unknown) => pushed("m.call.candidates", { ...voip, candidates: list });
  const invite = (content: object) => pushed("m.call.invite", { ...voip, lifetime: 60000, offer: { type: "offer", sdp: SDP_OFFER }, ...content });
  it.each([
    ["a 70 kB SDP", answer({ answer: { type: "answer", sdp: "a".repeat(70_000) } }), "/content/answer/sdp must NOT have more than 61440 characters"],
    ["an SDP within the characters but over the bytes", answer({ answer: { type: "answer", sdp: "é".repeat(40_000) } }), "/content/answer/sdp is too large: 80000 bytes as JSON, at most 61440"],
    ["an SDP whose \\r\\n escapes take it over", answer({ answer: { type: "answer", sdp: "\r\n".repeat(20_000) } }), "/content/answer/sdp is too large: 80000 bytes"],
    ["an empty SDP", answer({ answer: { type: "answer", sdp: "" } }), "/content/answer/sdp must NOT have fewer than 1 characters"],
    ["an answer of type offer", answer({ answer: { type: "offer", sdp: SDP_ANSWER } }), "/content/answer/type must be one of \"answer\""],
    ["an answer without sdp", answer({ answer: { type: "answer" } }), "/content/answer must have field 'sdp'"],
    ["no answer", pushed("m.call.answer", { ...voip }), "/content must have field 'answer'"],
    ["a call_id of 300 characters", answer({ call_id: "c".repeat(300) }), "/content/call_id must be 1-255 characters"],
    ["an empty call_id", answer({ call_id: "" }), "/content/call_id must be 1-255 characters"],
    ["a call_id with a newline", answer({ call_id: "abc\ndef" }), "/content/call_id must be 1-255 characters"],
    ["a call_id that is a number", answer({ call_id: 12345 }), "/content/call_id must be string"],
    ["no call_id", pushed("m.call.hangup", { version: "1", party_id: DEVICE }), "/content must have field 'call_id'"],
    ["a party_id of 300 characters", answer({ party_id: "p".repeat(300) }), "/content/party_id must be 1-255 characters"],
    ["an unknown version", answer({ version: "2" }), "/content/version must be one of \"1\", \"0\", 0"],
    ["version 1 as an integer", answer({ version: 1 }), "/content/version must be one of"],
    ["no version", pushed("m.call.hangup", { call_id: JS_SDK_CALL_ID }), "/content must have field 'version'"],
    ["candidates not a list", candidates({ 0: { candidate: "" } }), "/content/candidates must be array"],
    ["too many candidates", candidates(Array.from({ length: MAX_CANDIDATES + 1 }, () => ({ candidate: "" }))), "/content/candidates must NOT have more than 512 items"],
    ["a candidate of 5,000 characters", candidates([{ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host" }, { candidate: "x".repeat(5000) }]), "/content/candidates/1/candidate must NOT have more than 4096 characters"],
    ["a candidate without its line", candidates([{ sdpMid: "0" }]), "/content/candidates/0 must have field 'candidate'"],
    ["a negative sdpMLineIndex", candidates([{ candidate: "", sdpMLineIndex: -1 }]), "/content/candidates/0/sdpMLineIndex must be >= 0"],
    ["an sdpMid that is a number", candidates([{ candidate: "", sdpMid: 0 }]), "/content/candidates/0/sdpMid must be string,null"],
    ["an invite lifetime of 0", invite({ lifetime: 0 }), "/content/lifetime must be >= 1"],
    ["an invite lifetime as a string", invite({ lifetime: "60000" }), "/content/lifetime must be integer"],
    ["an invite lifetime of over a day", invite({ lifetime: 86_400_001 }), "/content/lifetime must be <= 86400000"],
    ["an invite without an offer", pushed("m.call.invite", { ...voip, lifetime: 60000 }), "/content must have field 'offer'"],
    ["an invitee that is not a user id", invite({ invitee: "alf" }), "/content/invitee must be a user id"],
    ["select_answer without selected_party_id", pushed("m.call.select_answer", { ...voip }), "/content must have field 'selected_party_id'"],
    ["a negotiate pranswer", pushed("m.call.negotiate", { ...voip, description: { type: "pranswer", sdp: SDP_OFFER } }), "/content/description/type must be one of \"offer\", \"answer\""],
    ["a hangup reason of 300 characters", pushed("m.call.hangup", { ...voip, reason: "r".repeat(300) }), "/content/reason must NOT have more than 255 characters"],
    ["a membership without state_key", pushed("m.room.member", { membership: "join" }), "event must have field 'state_key'"],
    ["a state_key that is not a user id", pushed("m.room.member", { membership: "join" }, { state_key: "alice" }), "/state_key must be a user id"],
    ["an unknown membership", pushed("m.room.member", { membership: "joined" }, { state_key: ALICE }), "/content/membership must be one of"],
    ["is_direct as a string", pushed("m.room.member", { membership: "invite", is_direct: "yes" }, { state_key: VIRTUAL }), "/content/is_direct must be boolean"],
    ["m.text without a body", pushed("m.room.message", { msgtype: "m.text" }), "/content must have field 'body'"],
    ["m.text of 5,000 characters", pushed("m.room.message", { msgtype: "m.text", body: "x".repeat(5000) }), "/content/body must NOT have more than 4096 characters"],
    ["an event id without $", { ...jsSdk.hangup(), event_id: "ev1" }, "/event_id must be an event id"],
    ["an event id of 300 characters", { ...jsSdk.hangup(), event_id: `$${"e".repeat(299)}` }, "/event_id must NOT have more than 255 characters"],
    ["a room id without !", { ...jsSdk.hangup(), room_id: "#alias:example.org" }, "/room_id must be a room id"],
    ["a sender that is not a user id", { ...jsSdk.hangup(), sender: "alice" }, "/sender must be a user id"],
    ["unsigned.age as a string", { ...jsSdk.hangup(), unsigned: { age: "5" } }, "/unsigned/age must be integer"],
  ])("%s", (_name, raw, reason) => {
    expect(refusal(raw)).toContain(reason);
  });
});
