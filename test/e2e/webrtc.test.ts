/**
 * Real WebRTC calls through the bridge: a WebCall caller in Node (wrtc, audio
 * and a data channel) rings a Matrix user whose devices are matrix-js-sdk
 * clients (wrtc too) on the test homeserver. Media must actually flow.
 */
import { BridgeFixture, waitFor } from "./fixture";
import { postJson, WebCallSession } from "./webcallClient";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(60_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";

describe("real WebRTC calls through the bridge", () => {
  let fx: BridgeFixture;
  let phone: MatrixCaller;
  let laptop: MatrixCaller;
  let room: string;
  const peers: WebCallCaller[] = [];

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    const alice = await fx.hs.createUser("alice");
    phone = await startMatrixClient({ baseUrl: fx.hs.url, ...alice });
    laptop = await startMatrixClient({ baseUrl: fx.hs.url, userId: alice.userId, ...(await fx.hs.loginNewDevice(alice.userId)) });
  });
  afterEach(async () => {
    expect(fx.problems).toEqual([]);
    while (peers.length) peers.pop()!.close();
  });
  afterAll(async () => {
    await phone.stop();
    await laptop.stop();
    await fx.stop();
    await teardownWrtcGlobals();
  });

  /** A WebCall caller that posts its offer and feeds the bridge's candidates and answer into its peer. */
  async function ring(body: object = {}): Promise<{ peer: WebCallCaller; session: WebCallSession; response: any }> {
    const peer = new WebCallCaller({ setupActive: true });
    peers.push(peer);
    const offer = await peer.offer();
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer, lifetime: 30000, ...body });
    expect(res.body.status).toBe("success");
    return { peer, session: new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token), response: res.body };
  }

  /** The call for this session on one of alice's devices, once it rings. */
  function incoming(client: MatrixCaller, sessionId: string) {
    return waitFor(() => client.calls.find((c) => c.callId === sessionId), 15_000, `session ${sessionId} to ring on ${client.deviceId}`);
  }

  async function connectCaller(peer: WebCallCaller, session: WebCallSession): Promise<void> {
    const answer = await session.waitForEvent("answer");
    await peer.acceptAnswer(answer.answer);
    for (const e of session.received.filter((x) => x.type === "candidates")) await peer.addRemoteCandidates(e.candidates);
  }

  it("first contact, then the callee answers and media flows both ways", async () => {
    const { peer, session } = await ring();
    room = await phone.waitForInvite();
    await phone.joinRoom(room);
    const call = await incoming(phone, session.sessionId);
    await phone.answer(call);
    await connectCaller(peer, session);
    await peer.waitConnected({ timeoutMs: 20_000, dataChannel: false });
    const [atPhone, atCaller] = await Promise.all([phone.waitForMediaFlowing(call), peer.waitForMediaFlowing()]);
    expect(atPhone.bytesReceived).toBeGreaterThan(0);
    expect(atCaller.bytesReceived).toBeGreaterThan(0);
    await session.hangup();
    await phone.waitForCallState(call, "ended");
    await fx.waitForSent((e) => e.room_id === room && /ended after/.test(String(e.content.body)));
  });

  it("two devices answer at once: exactly one connects, the other stops ringing", async () => {
    const { peer, session } = await ring();
    const [onPhone, onLaptop] = await Promise.all([incoming(phone, session.sessionId), incoming(laptop, session.sessionId)]);
    await Promise.all([phone.answer(onPhone), laptop.answer(onLaptop)]);
    await connectCaller(peer, session);
    await peer.waitConnected({ timeoutMs: 20_000, dataChannel: false });
    const select = await fx.waitForSent((e) => e.type === "m.call.select_answer" && e.content.call_id === session.sessionId);
    const winner = select.content.selected_party_id === onPhone.ourPartyId ? { call: onPhone, client: phone } : { call: onLaptop, client: laptop };
    const loser = winner.call === onPhone ? { call: onLaptop, client: laptop } : { call: onPhone, client: phone };
    await loser.client.waitForCallState(loser.call, "ended");
    expect((await winner.client.waitForMediaFlowing(winner.call)).bytesReceived).toBeGreaterThan(0);
    expect(fx.sentIn(room, "m.call.select_answer").filter((e) => e.content.call_id === session.sessionId)).toHaveLength(1);
    await winner.client.hangup(winner.call);
    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
  });

  it("decline: the caller hears could_not_attend", async () => {
    const { session } = await ring();
    const call = await incoming(phone, session.sessionId);
    await incoming(laptop, session.sessionId);
    await phone.reject(call);
    expect((await session.waitForEvent("hangup")).reason).toBe("could_not_attend");
  });

  it("timeout: nobody answers, every device stops ringing, the caller hears could_not_attend", async () => {
    const { session } = await ring({ lifetime: 6000 });
    const call = await incoming(phone, session.sessionId);
    expect((await session.waitForEvent("hangup", 15_000)).reason).toBe("could_not_attend");
    await phone.waitForCallState(call, "ended");
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === session.sessionId)
      .catch((err) => { throw new Error(`${err.message}; the bridge sent: ${JSON.stringify(fx.sent.filter((e) => e.content.call_id === session.sessionId || e.type === "m.room.message").slice(-6).map((e) => [e.type, e.content.reason ?? e.content.body]))}`); });
    expect(hangup.content.reason).toBe("invite_timeout");
  });

  it("the caller hangs up while ringing: the devices stop ringing", async () => {
    const { session } = await ring();
    const [call, other] = await Promise.all([incoming(phone, session.sessionId), incoming(laptop, session.sessionId)]);
    await session.hangup();
    await Promise.all([phone.waitForCallState(call, "ended"), laptop.waitForCallState(other, "ended")]);
  });

  describe("glare with the Matrix user's own call (js-sdk)", () => {
    it("alice's call is already out and has the lesser id: the WebCall caller answers it and media flows", async () => {
      const mine = await phone.placeCall(room, { invitee: VIRTUAL });
      // Only a call already on its way to the WebCall node (node attached or ringing) can
      // win glare by its lesser id; while the bridge still prepares it, the arriving call wins.
      await waitFor(async () => {
        const own = await fx.bridge.store.getSession(mine.callId as never);
        return own && (own.state === "ringing" || own.party !== null) ? own : undefined;
      }, 10_000, "alice's call on its way to the WebCall node");
      const peer = new WebCallCaller({ setupActive: false });
      peers.push(peer);
      const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: await peer.offer(), sessionId: `zz-${Date.now()}-glare-webcall`, lifetime: 30000 });
      expect(res.body).toMatchObject({ status: "success", sessionId: mine.callId });
      const answer = await peer.answerOffer(res.body.offer);
      const session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
      expect((await session.deliver([{ type: "answer", answer }])).status).toBe(200);
      await phone.waitForCallState(mine, "connected");
      expect((await phone.waitForMediaFlowing(mine)).bytesReceived).toBeGreaterThan(0);
      expect(fx.sent.filter((e) => e.type === "m.call.invite" && e.content.call_id === res.body.sessionId && e.content.call_id !== mine.callId)).toHaveLength(0);
      await phone.hangup(mine);
      expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    });

    it("alice's call is already out but the WebCall call has the lesser id: alice's call ends, the WebCall call rings and connects", async () => {
      const mine = await phone.placeCall(room, { invitee: VIRTUAL });
      await waitFor(() => fx.bridge.store.getSession(mine.callId as never), 10_000, "alice's invite at the bridge");
      const { peer, session } = await ring({ sessionId: `--${Date.now()}-glare-webcall` });
      await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === mine.callId);
      await phone.waitForCallState(mine, "ended");
      const incoming = await waitFor(() => phone.calls.find((c) => c.callId === session.sessionId), 10_000, "the WebCall call at alice's phone");
      if (incoming.state === "ringing") await phone.answer(incoming);
      await connectCaller(peer, session);
      await phone.waitForCallState(incoming, "connected");
      expect((await phone.waitForMediaFlowing(incoming)).bytesReceived).toBeGreaterThan(0);
      await session.hangup();
    });
  });
});
