import winston from "winston";
import { setLogLevel } from "../../src/log";
import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { ANSWER, OFFER } from "./sdp";
import { postJson, WebCallSession } from "./webcallClient";

const VIRTUAL = "@webcall_alf=40employer.com:example.org";
const REFUSED = "ignoring an event that does not match its schema";

/**
 * The Matrix edge on real Synapse: malformed events pushed straight to the
 * bridge's appservice port for a ringing call (as a homeserver that let
 * them through, or anything holding the hs_token, would) are acknowledged,
 * logged once each, and never touch the call; the call then answers as usual.
 */
describe("the Matrix edge refuses malformed events for a ringing call", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let session: WebCallSession;
  let room: string;
  let log: jest.SpyInstance;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    expect(res.status).toBe(200);
    session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    // Only the log's transport is replaced: the bridge logs as it always does.
    log = jest.spyOn(winston.transports.Console.prototype, "log").mockImplementation(((_info: unknown, done?: () => void) => { done?.(); }) as never);
    setLogLevel("warn");
  });
  afterAll(async () => {
    log.mockRestore();
    setLogLevel("error");
    await fx.stop();
  });

  const refusals = () => log.mock.calls.map((args) => args[0] as Record<string, unknown>).filter((e) => e.message === REFUSED);
  const voip = () => ({ call_id: session.sessionId, party_id: "PHONE", version: "1" });
  const pushed = (id: string, type: string, content: object) => ({
    type, event_id: `$edge-${id}`, room_id: room, sender: alice.userId, origin_server_ts: Date.now(), unsigned: { age: 0 }, content,
  });
  const push = async (txnId: string, events: object[]) => {
    const res = await fetch(`http://127.0.0.1:${fx.bridge.appservicePort}/_matrix/app/v1/transactions/${txnId}`, {
      method: "PUT", headers: { authorization: `Bearer ${fx.registration.hs_token}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
    });
    return { status: res.status, body: await res.json() };
  };
  /** What the WebCall caller has been sent so far, without waiting. */
  const partyEvents = async () => {
    const res = await fetch(`${fx.webcallUrl}/sessions/${session.sessionId}/events?since=0&timeout=0`, { headers: { authorization: `Bearer ${session.token}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { events: { type: string }[] }).events;
  };

  it("acknowledges them, logs each once, and leaves the call ringing; a real answer then connects it", async () => {
    const malformed = [
      pushed("huge-sdp", "m.call.answer", { ...voip(), answer: { type: "answer", sdp: `${ANSWER.sdp}a=x:${"y".repeat(70_000)}\r\n` } }),
      pushed("long-call-id", "m.call.answer", { ...voip(), call_id: "c".repeat(300), answer: ANSWER }),
      pushed("long-party-id", "m.call.answer", { ...voip(), party_id: "p".repeat(300), answer: ANSWER }),
      // One good candidate beside one too large: neither goes on (never half-applied).
      pushed("big-candidate", "m.call.candidates", { ...voip(), candidates: [
        { candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 },
        { candidate: `candidate:2 1 udp 1 127.0.0.1 5001 typ host ${"z".repeat(5000)}`, sdpMid: "0", sdpMLineIndex: 0 },
      ] }),
      pushed("too-many-candidates", "m.call.candidates", { ...voip(), candidates: Array.from({ length: 600 }, () => ({ candidate: "" })) }),
      pushed("bad-version", "m.call.hangup", { ...voip(), version: "2" }),
    ];
    expect(await push("edge-1", malformed)).toEqual({ status: 200, body: {} });
    expect(refusals().map((e) => [e.eventId, e.type])).toEqual(malformed.map((e) => [e.event_id, e.type]));
    expect(refusals()[0]!.reason).toBe("/content/answer/sdp must NOT have more than 61440 characters");

    // A retry of the same transaction is acknowledged again and logs nothing more.
    expect(await push("edge-1", malformed)).toEqual({ status: 200, body: {} });
    expect(refusals()).toHaveLength(malformed.length);

    // Nothing reached the caller, nothing was sent in the room: the call still rings.
    await new Promise((r) => setTimeout(r, 300));
    expect(await partyEvents()).toEqual([]);
    expect(fx.sentIn(room, "m.call.select_answer")).toEqual([]);
    expect(fx.sentIn(room, "m.call.hangup")).toEqual([]);

    // The bridge keeps serving: Alice's real answer, through Synapse, connects the call.
    await alice.send(room, "m.call.answer", { ...voip(), answer: ANSWER });
    const answer = await session.waitForEvent("answer");
    expect(answer.answer).toEqual(ANSWER);
    const select = await fx.waitForSent((e) => e.type === "m.call.select_answer" && e.content.call_id === session.sessionId);
    expect(select.content.selected_party_id).toBe("PHONE");
    expect((await fetch(`http://127.0.0.1:${fx.bridge.appservicePort}/health`)).status).toBe(200);
    expect(fx.problems).toEqual([]);
    await session.hangup();
  });

  it("an invite whose call_id Matrix allows but a WebCall session id does not is rejected at once, not placed", async () => {
    const callId = "{8d4a1f1e-3c6b-4d1f-9a3e-0c1b2d3e4f5a}"; // braces and all, as some clients make them
    await alice.send(room, "m.call.invite", { call_id: callId, party_id: "PHONE", version: "1", lifetime: 60000, invitee: VIRTUAL, offer: OFFER });
    const reject = await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === callId);
    expect(reject.sender).toBe(VIRTUAL);
    expect(fx.node.setups).toEqual([]);
    expect(fx.problems).toEqual([]);
  });
});
