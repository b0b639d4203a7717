import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER, ANSWER } from "./sdp";

const USER_OFFER = { type: "offer", sdp: "v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" };
const VIRTUAL = "@webcall_alf=40employer.com:example.org";

/** Glare between a WebCall call to alice and alice's own call to the same
 *  party in the same DM, decided by the bridge (WebCall/1 §3). */
describe("glare", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let room: string;
  let n = 0;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    // First contact to make the DM, then end that call.
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    await new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token).hangup();
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  const ids = (prefix: string) => `${prefix}-glare-${++n}-0123456789abcdef`;

  async function aliceCalls(callId: string): Promise<void> {
    await alice.send(room, "m.call.invite", { call_id: callId, party_id: "ALICEDEV", version: "1", lifetime: 60000, invitee: VIRTUAL, offer: USER_OFFER });
    await waitFor(() => fx.bridge.store.getSession(callId as never), 5000, "the bridge to see alice's invite");
  }

  function webcallCalls(sessionId: string) {
    return postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, sessionId, token: "k".repeat(40) + n });
  }

  describe("alice's invite was already sent when the WebCall call arrives", () => {
    it("alice's lesser id survives: the setup answer carries her offer, the caller answers it", async () => {
      const mine = ids("a"), theirs = ids("z");
      await aliceCalls(mine);
      const res = await webcallCalls(theirs);
      expect(res.body).toMatchObject({ status: "success", sessionId: mine, offer: USER_OFFER });
      const session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
      expect((await session.deliver([{ type: "answer", answer: ANSWER }])).status).toBe(200);
      const answer = await fx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === mine);
      expect(answer.content.answer).toEqual(ANSWER);
      expect(fx.sent.filter((e) => e.type === "m.call.invite" && e.content.call_id === theirs)).toHaveLength(0);
      await alice.send(room, "m.call.hangup", { call_id: mine, party_id: "ALICEDEV", version: "1", reason: "user_hangup" });
      expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    });

    it("the WebCall call's lesser id survives: alice's call is rejected and the WebCall call rings", async () => {
      const mine = ids("z"), theirs = ids("a");
      await aliceCalls(mine);
      const res = await webcallCalls(theirs);
      expect(res.body).toMatchObject({ status: "success", sessionId: theirs });
      expect(res.body.offer).toBeUndefined();
      await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === mine);
      await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === theirs);
      await new WebCallSession(fx.webcallUrl, theirs, res.body.token).hangup();
    });
  });

  describe("alice's invite arrives while the WebCall call is ringing", () => {
    it("alice's lesser id survives: the bridge hangs up its invite and sends replace to the caller", async () => {
      const mine = ids("a"), theirs = ids("z");
      const res = await webcallCalls(theirs);
      const session = new WebCallSession(fx.webcallUrl, theirs, res.body.token);
      await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === theirs);
      await aliceCalls(mine);
      const replace = await session.waitForEvent("replace");
      expect(replace).toMatchObject({ sessionId: mine, offer: USER_OFFER });
      await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === theirs);
      // The caller continues in alice's session with the same token.
      const continued = new WebCallSession(fx.webcallUrl, mine, res.body.token);
      expect((await continued.deliver([{ type: "answer", answer: ANSWER }])).status).toBe(200);
      await fx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === mine);
      expect((await session.deliver([{ type: "hangup", reason: "user_hangup" }])).status).toBe(410);
      await continued.hangup();
      await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === mine);
    });

    it("the WebCall call's lesser id survives: alice's call is rejected, the ring goes on", async () => {
      const mine = ids("z"), theirs = ids("a");
      const res = await webcallCalls(theirs);
      const session = new WebCallSession(fx.webcallUrl, theirs, res.body.token);
      await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === theirs);
      await aliceCalls(mine);
      await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === mine);
      await alice.send(room, "m.call.answer", { call_id: theirs, party_id: "ALICEDEV", version: "1", answer: ANSWER });
      await session.waitForEvent("answer");
      expect(session.received.some((e) => e.type === "replace")).toBe(false);
      await session.hangup();
    });
  });
});
