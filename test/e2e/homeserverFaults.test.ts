/**
 * Faults only the in-process homeserver can inject (Synapse cannot be told to
 * fail its pushes, drop the bridge's requests, or queue pushes for a stopped
 * bridge on cue). Each test checks that no answer or hangup is lost or doubled,
 * on either side.
 */
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER, ANSWER } from "./sdp";

jest.setTimeout(60_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";
const CANDIDATE = { candidate: "candidate:7 1 udp 1 127.0.0.1 7000 typ host", sdpMid: "0", sdpMLineIndex: 0 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("homeserver faults (in-process homeserver)", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let room: string;

  beforeAll(async () => {
    fx = await BridgeFixture.start({ homeserver: "inprocess" });
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    // First contact makes the DM once, so each test starts from a warm, ringing call.
    const first = await call();
    room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    await rung(first);
    await first.hangup();
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => {
    fx.hs.inProcess.appserviceDown(false);
    fx.hs.inProcess.unreachable(false);
    expect(fx.problems).toEqual([]);
  });

  async function call(lifetime = 60_000): Promise<WebCallSession> {
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, lifetime });
    expect(res.body.status).toBe("success");
    return new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
  }

  function rung(session: WebCallSession) {
    return fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
  }

  const sentFor = (type: string, session: WebCallSession) => fx.sentIn(room, type).filter((e) => e.content.call_id === session.sessionId);
  const types = (session: WebCallSession) => session.received.map((e) => e.type);

  it("pushes failing mid-call: the answer persisted meanwhile is delivered once when the link is back, then a hangup ends it", async () => {
    const session = await call();
    await rung(session);
    fx.hs.inProcess.appserviceDown(true);
    // Two transactions queue up behind the failing one: the answer, then that device's candidates.
    await alice.send(room, "m.call.answer", { call_id: session.sessionId, party_id: "PHONE", version: "1", answer: ANSWER });
    await alice.send(room, "m.call.candidates", { call_id: session.sessionId, party_id: "PHONE", version: "1", candidates: [CANDIDATE] });
    // A few retries fail (backoff 100, 200, 400 ms): the bridge has seen nothing yet.
    await sleep(1000);
    expect(sentFor("m.call.select_answer", session)).toHaveLength(0);
    fx.hs.inProcess.appserviceDown(false);

    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);
    expect((await session.waitForEvent("candidates")).candidates[0].candidate).toBe(CANDIDATE.candidate);
    const select = await fx.waitForSent((e) => e.type === "m.call.select_answer" && e.content.call_id === session.sessionId);
    expect(select.content.selected_party_id).toBe("PHONE");

    await alice.send(room, "m.call.hangup", { call_id: session.sessionId, party_id: "PHONE", version: "1", reason: "user_hangup" });
    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    expect(types(session)).toEqual(["answer", "candidates", "hangup"]);
    await waitFor(() => fx.sentIn(room, "m.room.message").some((e) => /ended after/.test(String(e.content.body)) && e.origin_server_ts >= select.origin_server_ts) || undefined, 5000, "the ended notice");
    expect(sentFor("m.call.select_answer", session)).toHaveLength(1);
    expect(sentFor("m.call.hangup", session)).toHaveLength(0); // the callee hung up; the bridge has nothing to add
  });

  it("homeserver unreachable while the caller hangs up: the bridge's m.call.hangup reaches the callee once it is back", async () => {
    const session = await call(20_000);
    await rung(session);
    fx.hs.inProcess.unreachable(true);
    const res = await session.hangup();
    expect(res.status).toBe(200);
    await sleep(500);
    expect(sentFor("m.call.hangup", session)).toHaveLength(0); // nothing got through
    fx.hs.inProcess.unreachable(false);

    // Well before the 20 s lifetime: a callee's device must not ring on for a call the caller left.
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === session.sessionId, 8000);
    expect(hangup.content.reason).toBe("user_hangup");
    // A later answer from the callee finds the call over; the hangup is not sent again.
    await alice.send(room, "m.call.answer", { call_id: session.sessionId, party_id: "PHONE", version: "1", answer: ANSWER });
    await sleep(1500);
    expect(sentFor("m.call.hangup", session)).toHaveLength(1);
    expect(sentFor("m.call.select_answer", session)).toHaveLength(0);
    expect((await session.deliver([{ type: "candidates", candidates: [{ candidate: "" }] }])).status).toBe(410);
  });

  it("a bridge stopped between two pushes: the queued answer and hangup are both handled, in order, once", async () => {
    const session = await call();
    await rung(session);
    await fx.bridge.stop();
    await alice.send(room, "m.call.answer", { call_id: session.sessionId, party_id: "LAPTOP", version: "1", answer: ANSWER });
    await alice.send(room, "m.call.hangup", { call_id: session.sessionId, party_id: "LAPTOP", version: "1", reason: "user_hangup" });
    await sleep(500); // the homeserver's pushes fail and back off meanwhile
    await fx.startBridge();

    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    expect(types(session)).toEqual(["answer", "hangup"]);
    expect(session.received[0].answer).toEqual(ANSWER);
    const select = await fx.waitForSent((e) => e.type === "m.call.select_answer" && e.content.call_id === session.sessionId);
    expect(select.content.selected_party_id).toBe("LAPTOP");
    const ended = () => fx.sentIn(room, "m.room.message").filter((e) => /ended after/.test(String(e.content.body)) && e.origin_server_ts >= select.origin_server_ts);
    await waitFor(() => ended().length > 0 || undefined, 5000, "the ended notice");
    await sleep(1000); // room for a doubled push to show
    expect(sentFor("m.call.select_answer", session)).toHaveLength(1);
    expect(ended()).toHaveLength(1);
    expect(sentFor("m.call.hangup", session)).toHaveLength(0);
    // The session is over on the WebCall side too.
    expect((await session.deliver([{ type: "candidates", candidates: [{ candidate: "" }] }])).status).toBe(410);
  });
  it("a callee who joined the DM before the bridge was told is rung in that DM, not invited to a new one", async () => {
    // Synapse answers a re-invite of a joined member 403, as it does a lost DM; the bridge must tell them apart.
    const caller = { callerId: "bob@employer.com", calleeId: "alice@example.org", offer: OFFER, lifetime: 60_000 };
    const bob = "@webcall_bob=40employer.com:example.org";
    const first = await postJson(fx.webcallUrl, caller);
    const dm = await alice.waitForInviteFrom(bob);
    fx.hs.inProcess.appserviceDown(true);
    await alice.join(dm); // its push fails: the bridge still thinks she is only invited
    const second = await postJson(fx.webcallUrl, caller);
    const invite = await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === second.body.sessionId);
    expect(invite.room_id).toBe(dm);
    const invitesToAlice = fx.sent.filter((e) => e.type === "m.room.member" && e.sender === bob && e.state_key === alice.userId && e.content.membership === "invite");
    expect(invitesToAlice).toHaveLength(1);
    fx.hs.inProcess.appserviceDown(false);
    for (const res of [first, second]) await new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token).hangup();
  });
});
