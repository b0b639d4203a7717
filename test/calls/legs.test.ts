import { SetupRequest } from "../../src/protocol/types";
import { Address } from "../../src/ids/address";
import { MatrixUserId } from "../../src/ids/matrix";
import { ANSWER, Harness, OFFER, callEvent, sleep, startHarness, until } from "./fakeSides";

/** The call core's legs against fakes of its two sides: the state table's rows as behaviour. */
describe("sessions and legs in the call core", () => {
  let h: Harness;
  const ALICE = "@alice:example.org", BOB = "@bob:example.org";
  let aliceRoom: string, bobRoom: string;

  beforeAll(async () => {
    h = await startHarness();
    aliceRoom = h.matrix.joinedDm(ALICE, h.virtual).roomId;
    bobRoom = h.matrix.joinedDm(BOB, h.virtual).roomId;
    h.core.ringGroupAt("team@example.org" as Address, { targets: [ALICE, BOB] as MatrixUserId[], mode: { mode: "all" } });
    h.core.ringGroupAt("rota@example.org" as Address, { targets: [ALICE, BOB] as MatrixUserId[], mode: { mode: "sequence", stepMs: 300 } });
  });
  afterAll(() => h.close());

  async function setup(calleeId: string, extra: Partial<SetupRequest> = {}) {
    const res = await h.core.setup({ calleeId, callerId: "alf@employer.com", offer: OFFER, lifetime: 20_000, ...extra } as SetupRequest,
      { requestId: "r", receivedAt: 0 });
    if (res.status !== "success") throw new Error("setup refused");
    return res;
  }
  const invites = (roomId: string) => h.matrix.of("m.call.invite", roomId);
  const inviteIn = (roomId: string, sessionId?: string) => until(() => invites(roomId).find((i) => !sessionId || i.content.call_id === sessionId
    || !invitesBefore.has(i)), `an invite in ${roomId}`);
  let invitesBefore = new Set<unknown>();
  beforeEach(() => {
    invitesBefore = new Set(h.matrix.sent);
  });
  const answer = (roomId: string, sender: string, callId: unknown, partyId = "DEVICE") =>
    h.core.onMatrixEvent(callEvent("m.call.answer", { roomId, sender, callId, partyId, answer: ANSWER }), Date.now());
  const legs = (sessionId: string) => h.store.legsOf(sessionId as never);

  test("a direct call: one leg whose call_id is the session id; the answer connects it; a hangup ends it once", async () => {
    const { sessionId } = await setup("alice@example.org");
    const invite = await inviteIn(aliceRoom, sessionId);
    expect(invite.content.call_id).toBe(sessionId);
    await answer(aliceRoom, ALICE, sessionId);
    expect(h.party.of(sessionId, "answer")).toHaveLength(1);
    expect((await h.store.getSession(sessionId as never))?.state).toBe("connected");
    const hangup = callEvent("m.call.hangup", { roomId: aliceRoom, sender: ALICE, callId: sessionId, partyId: "DEVICE", reason: "user_hangup" });
    await Promise.all([h.core.onMatrixEvent(hangup, Date.now()), h.core.onMatrixEvent(hangup, Date.now())]);
    expect(h.party.of(sessionId, "hangup")).toEqual([{ type: "hangup", reason: "user_hangup" }]);
    expect(h.matrix.of("m.notice", aliceRoom).filter((n) => /ended after/.test(String(n.content.body))).length).toBeGreaterThan(0);
  });

  test("all at once: both legs ring; two answers at once, one wins; the other leg stops ringing and is told", async () => {
    const { sessionId } = await setup("team@example.org");
    const [a, b] = await Promise.all([inviteIn(aliceRoom, sessionId), inviteIn(bobRoom)]);
    expect(a.content.call_id).toBe(sessionId);
    expect(b.content.call_id).not.toBe(sessionId);
    await Promise.all([answer(aliceRoom, ALICE, a.content.call_id, "A"), answer(bobRoom, BOB, b.content.call_id, "B")]);
    expect(h.party.of(sessionId, "answer")).toHaveLength(1);
    const states = (await legs(sessionId)).map((l) => [l.state, l.endReason]);
    expect(states.sort()).toEqual([["connected", null], ["ended", "answered_elsewhere"]]);
    const loser = (await legs(sessionId)).find((l) => l.state === "ended")!;
    expect(h.matrix.of("m.call.hangup", loser.roomId!).some((e) => e.content.call_id === loser.callId)).toBe(true);
    expect(h.matrix.of("m.notice", loser.roomId!).some((e) => /answered elsewhere/.test(String(e.content.body)))).toBe(true);
    // A third answer, late, on the losing leg changes nothing.
    await answer(loser.roomId!, loser.matrixUserId, loser.callId, "LATE");
    expect(h.party.of(sessionId, "answer")).toHaveLength(1);
  });

  test("in turn: the first leg's step passes, the next rings; declining the last ends the session could_not_attend", async () => {
    const { sessionId } = await setup("rota@example.org");
    await inviteIn(aliceRoom, sessionId);
    expect(invites(bobRoom).filter((i) => !invitesBefore.has(i))).toHaveLength(0);
    const b = await until(() => invites(bobRoom).find((i) => !invitesBefore.has(i)), "bob's turn", 3000);
    expect(h.matrix.of("m.call.hangup", aliceRoom).find((e) => e.content.call_id === sessionId)?.content.reason).toBe("invite_timeout");
    await h.core.onMatrixEvent(callEvent("m.call.reject", { roomId: bobRoom, sender: BOB, callId: b.content.call_id, partyId: "B" }), Date.now());
    expect(h.party.of(sessionId, "hangup")).toEqual([{ type: "hangup", reason: "could_not_attend" }]);
    expect((await h.store.getSession(sessionId as never))?.endReason).toBe("declined");
  });

  test("expiry: nobody answers within the lifetime; every ringing leg hangs up invite_timeout and the caller hears could_not_attend", async () => {
    const { sessionId } = await setup("team@example.org", { lifetime: 400 });
    await inviteIn(aliceRoom, sessionId);
    await until(() => h.party.of(sessionId, "hangup").length > 0, "the expiry");
    expect(h.party.of(sessionId, "hangup")).toEqual([{ type: "hangup", reason: "could_not_attend" }]);
    for (const leg of await legs(sessionId)) {
      expect(leg.state).toBe("ended");
      expect(h.matrix.of("m.call.hangup", leg.roomId!).find((e) => e.content.call_id === leg.callId)?.content.reason).toBe("invite_timeout");
    }
  });

  test("a hangup racing an answer: either the answer or the hangup wins, never both", async () => {
    const { sessionId, token } = await setup("alice@example.org");
    await inviteIn(aliceRoom, sessionId);
    await Promise.all([
      answer(aliceRoom, ALICE, sessionId),
      h.core.deliver(sessionId, token, [{ id: "h1", type: "hangup", reason: "user_hangup" }], { requestId: "r", receivedAt: 0 }),
    ]);
    const session = await h.store.getSession(sessionId as never);
    expect(session?.state).toBe("ended");
    // If the answer won first, the caller's hangup ended the connected call; either way one ending.
    expect(h.matrix.of("m.call.hangup", aliceRoom).filter((e) => e.content.call_id === sessionId)).toHaveLength(1);
  });

  test("glare: the user's own call while a WebCall call rings in the same DM; one survives", async () => {
    const { sessionId } = await setup("alice@example.org");
    await inviteIn(aliceRoom, sessionId);
    const own = "000000000000000000lesser";
    await h.core.onMatrixEvent(callEvent("m.call.invite", { roomId: aliceRoom, sender: ALICE, callId: own, partyId: "A",
      offer: OFFER, lifetimeMs: 30_000, invitee: h.virtual }), Date.now());
    // Both were out: the lesser id (the user's) wins, the WebCall party is told to answer it.
    expect(h.party.of(sessionId, "replace")).toEqual([{ type: "replace", sessionId: own, offer: OFFER }]);
    expect((await h.store.getSession(sessionId as never))?.state).toBe("replaced");
    expect((await h.store.getSession(own as never))?.state).toBe("ringing");
  });

  test("after a restart, a ringing call still ends: the new core's answer and hangup apply", async () => {
    const { sessionId, token } = await setup("alice@example.org");
    await inviteIn(aliceRoom, sessionId);
    await h.core.stop();
    const core = await h.restart();
    await core.onMatrixEvent(callEvent("m.call.answer", { roomId: aliceRoom, sender: ALICE, callId: sessionId, partyId: "D", answer: ANSWER }), Date.now());
    expect((await h.store.getSession(sessionId as never))?.state).toBe("connected");
    await core.deliver(sessionId, token, [{ id: "h2", type: "hangup", reason: "user_hangup" }], { requestId: "r", receivedAt: 0 });
    expect((await h.store.getSession(sessionId as never))?.state).toBe("ended");
    await sleep(10);
  });
});
