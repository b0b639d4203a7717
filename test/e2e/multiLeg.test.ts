/**
 * One WebCall session, several Matrix legs (src/model/, docs/call-states.md),
 * with real WebRTC on the test homeserver: a ring group rings two Matrix
 * users at once, or in turn with a step timeout, through the call core's
 * internal API (CallCore.ringGroupAt, which rotas will use). The first answer
 * connects the session and media flows; the other leg stops ringing and its
 * DM says the call was answered elsewhere.
 */
import { Address } from "../../src/ids/address";
import { MatrixUserId } from "../../src/ids/matrix";
import { BridgeFixture, waitFor } from "./fixture";
import { postJson, WebCallSession } from "./webcallClient";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(60_000);

describe("a session that rings several Matrix legs", () => {
  let fx: BridgeFixture;
  let alice: MatrixCaller;
  let bob: MatrixCaller;
  const rooms: Record<"alice" | "bob", string> = { alice: "", bob: "" };
  const peers: WebCallCaller[] = [];

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    alice = await startMatrixClient({ baseUrl: fx.hs.url, ...(await fx.hs.createUser("alice")) });
    bob = await startMatrixClient({ baseUrl: fx.hs.url, ...(await fx.hs.createUser("bob")) });
    const targets = [alice.userId, bob.userId] as MatrixUserId[];
    fx.bridge.core.ringGroupAt("team@example.org" as Address, { targets, mode: { mode: "all" } });
    fx.bridge.core.ringGroupAt("rota@example.org" as Address, { targets, mode: { mode: "sequence", stepMs: 5000 } });
  });
  afterEach(async () => {
    expect(fx.problems).toEqual([]);
    while (peers.length) peers.pop()!.close();
  });
  afterAll(async () => {
    await alice.stop();
    await bob.stop();
    await fx.stop();
    await teardownWrtcGlobals();
  });

  async function ring(calleeId: string): Promise<{ peer: WebCallCaller; session: WebCallSession }> {
    const peer = new WebCallCaller({ setupActive: true });
    peers.push(peer);
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId, offer: await peer.offer(), lifetime: 40000 });
    expect(res.body.status).toBe("success");
    return { peer, session: new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token) };
  }

  async function connect(peer: WebCallCaller, session: WebCallSession): Promise<void> {
    const answer = await session.waitForEvent("answer");
    await peer.acceptAnswer(answer.answer);
    for (const e of session.received.filter((x) => x.type === "candidates")) await peer.addRemoteCandidates(e.candidates);
    await peer.waitConnected({ timeoutMs: 20_000, dataChannel: false });
  }

  const noticeIn = (roomId: string, text: RegExp) =>
    fx.waitForSent((e) => e.room_id === roomId && e.type === "m.room.message" && text.test(String(e.content.body)), 10_000);

  it("at once: both ring, the first answer connects, media flows, the other leg stops ringing and is told", async () => {
    const { peer, session } = await ring("team@example.org");
    // First contact for both: each is invited to a DM with the caller's virtual user.
    // Two first contacts at once: on a loaded machine one invite's sync can take over 15 s.
    const wait = { timeoutMs: 40_000 };
    [rooms.alice, rooms.bob] = await Promise.all([alice.waitForInvite(undefined, wait), bob.waitForInvite(undefined, wait)]);
    await Promise.all([alice.joinRoom(rooms.alice), bob.joinRoom(rooms.bob)]);
    const [atAlice, atBob] = await Promise.all([
      alice.waitForIncomingCall({ roomId: rooms.alice, ...wait }), bob.waitForIncomingCall({ roomId: rooms.bob, ...wait }),
    ]);
    // The first leg keeps the session id as its Matrix call_id; the second has its own.
    expect(atAlice.callId).toBe(session.sessionId);
    expect(atBob.callId).not.toBe(session.sessionId);

    await bob.answer(atBob);
    await connect(peer, session);
    const [media, caller] = await Promise.all([bob.waitForMediaFlowing(atBob), peer.waitForMediaFlowing()]);
    expect(media.bytesReceived).toBeGreaterThan(0);
    expect(caller.bytesReceived).toBeGreaterThan(0);

    await alice.waitForCallState(atAlice, "ended");
    const stop = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === atAlice.callId);
    expect(stop.room_id).toBe(rooms.alice);
    await noticeIn(rooms.alice, /answered elsewhere/);
    expect((await fx.bridge.store.legsOf(session.sessionId as never)).map((l) => [l.state, l.endReason])).toEqual([["ended", "answered_elsewhere"], ["connected", null]]);

    await session.hangup();
    await bob.waitForCallState(atBob, "ended");
    await noticeIn(rooms.bob, /ended after/);
  });

  it("in turn: the first leg rings alone, times out, the next rings and connects; media flows", async () => {
    const bobInvites = fx.sentIn(rooms.bob, "m.call.invite").length;
    const { peer, session } = await ring("rota@example.org");
    const atAlice = await alice.waitForIncomingCall({ roomId: rooms.alice });
    expect(atAlice.callId).toBe(session.sessionId);
    // Bob's turn comes only after alice's step (5 s).
    await new Promise((r) => setTimeout(r, 2000));
    expect(fx.sentIn(rooms.bob, "m.call.invite")).toHaveLength(bobInvites);

    const atBob = await bob.waitForIncomingCall({ roomId: rooms.bob, timeoutMs: 15_000 });
    const timedOut = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === atAlice.callId);
    expect(timedOut.content.reason).toBe("invite_timeout");
    await alice.waitForCallState(atAlice, "ended");
    await noticeIn(rooms.alice, /Missed call/);

    await bob.answer(atBob);
    await connect(peer, session);
    const [media, caller] = await Promise.all([bob.waitForMediaFlowing(atBob), peer.waitForMediaFlowing()]);
    expect(media.bytesReceived).toBeGreaterThan(0);
    expect(caller.bytesReceived).toBeGreaterThan(0);
    await bob.hangup(atBob);
    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    await waitFor(async () => (await fx.bridge.store.getSession(session.sessionId as never))?.state === "ended" || undefined, 5000, "the session to end");
  });

  it("in turn, nobody answers: each leg rings for its step, then the caller hears could_not_attend", async () => {
    const { session } = await ring("rota@example.org");
    const atAlice = await alice.waitForIncomingCall({ roomId: rooms.alice });
    const atBob = await bob.waitForIncomingCall({ roomId: rooms.bob, timeoutMs: 15_000 });
    await alice.waitForCallState(atAlice, "ended");
    expect((await session.waitForEvent("hangup", 15_000)).reason).toBe("could_not_attend");
    await bob.waitForCallState(atBob, "ended");
  });
});
