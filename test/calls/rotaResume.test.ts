import { RotaSide } from "../../src/calls/ports";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { Rota, RotaMember } from "../../src/model/rota";
import { SetupRequest } from "../../src/protocol/types";
import { ringPlan } from "../../src/rota/schedule";
import { rota as aRota } from "../rota/fixtures";
import { Harness, OFFER, startHarness, until } from "./fakeSides";

/**
 * A rota call's escalation across restarts of the call core (docs/rotas.md,
 * "Durable"): each step goes on with the time it had left, the step after
 * it rings when it ends, a call whose lifetime passed while the bridge was
 * down ends as missed, and the rota room's notices go on from where they
 * were. The bridge's wall clock is moved forward while it is stopped, as
 * downtime would.
 */
describe("a rota call across restarts", () => {
  const STEP_MS = 10_000;
  let h: Harness;
  let offset = 0;
  const now = () => Date.now() + offset;
  const notices: { body: string; mentions: readonly MatrixUserId[]; txnId?: string }[] = [];
  let rota: Rota;
  let order: MatrixUserId[];
  const rooms: Record<string, string> = {};

  beforeAll(async () => {
    rota = aRota({ escalation: { mode: "sequence", stepMs: STEP_MS, thenAll: false }, roomId: "!ops:example.org" as RoomId });
    const side: RotaSide = {
      bot: "@webcall:example.org" as MatrixUserId,
      find: async (name) => (name === rota.name ? rota : undefined),
      members: async (r) => r.members!,
      notice: async (_room, body, mentions, txnId) => {
        // The homeserver makes a resend with the same transaction id the same message.
        if (txnId && notices.some((n) => n.txnId === txnId)) return;
        notices.push({ body, mentions, txnId });
      },
      bridgeDefault: "ring",
    };
    h = await startHarness({ rotas: side, now });
    order = ringPlan(rota, rota.members!, now()).steps.map((s) => (s[0] as Extract<RotaMember, { kind: "matrix" }>).userId);
    for (const userId of order) rooms[userId] = h.matrix.joinedDm(userId, h.virtual).roomId;
  });
  afterAll(() => h.close());
  beforeEach(() => {
    notices.length = 0;
  });

  async function call(lifetime = 60_000): Promise<{ sessionId: string; token: string }> {
    const res = await h.core.setup({ calleeId: "on-call@example.org", callerId: "alf@employer.com", offer: OFFER, lifetime } as SetupRequest,
      { requestId: "r", receivedAt: 0 });
    if (res.status !== "success") throw new Error("setup refused");
    return { sessionId: res.sessionId, token: res.token };
  }
  const legs = (sessionId: string) => h.store.legsOf(sessionId as never);
  /** Stops the core, lets `downMs` pass on the bridge's clock, starts a new one on the same store. */
  async function restartAfter(downMs: number) {
    await h.core.stop();
    offset += downMs;
    h.core = await h.restart();
  }
  const ringingLeg = async (sessionId: string, userId: MatrixUserId) =>
    until(async () => (await legs(sessionId)).find((l) => l.matrixUserId === userId && l.state === "ringing"), `${userId} ringing`, 5000);

  test("a step goes on with the time it had left, then the next member rings, and the room is told", async () => {
    const [first, second] = order as [MatrixUserId, MatrixUserId];
    const { sessionId, token } = await call();
    const leg = await ringingLeg(sessionId, first);
    expect(leg.stepEndsAt).toBeGreaterThan(now() + STEP_MS - 2000);
    await until(() => notices.find((n) => n.body.startsWith("Call from")), "the first notice");
    // Down for all but 1 s of the step: after the restart the first member rings for that second, not a fresh 10 s.
    await restartAfter(STEP_MS - 1000);
    const moved = await until(async () => (await legs(sessionId)).find((l) => l.matrixUserId === second && l.state === "ringing"), "the second step", 5000);
    expect((await legs(sessionId)).find((l) => l.matrixUserId === first)).toMatchObject({ state: "ended", endReason: "invite_timeout" });
    // The second step got a step of its own from when it rang.
    expect(moved.stepEndsAt).toBeGreaterThanOrEqual(leg.stepEndsAt! + STEP_MS - 1000);
    const escalated = await until(() => notices.find((n) => n.body.startsWith(`${first} did not answer in 10 s — ringing ${second}`)), "the escalation's notice");
    expect(escalated.mentions).toEqual([second]);
    // The first notice was not sent again.
    expect(notices.filter((n) => n.body.startsWith("Call from"))).toHaveLength(1);
    await h.core.deliver(sessionId, token, [{ id: "bye", type: "hangup", reason: "user_hangup" }], { requestId: "r", receivedAt: 0 });
    await until(() => notices.find((n) => /^Caller hung up after/.test(n.body)), "the hangup's notice");
  });

  test("a restart after the step ended (before the next one rang) rings the next step at once", async () => {
    const [first, second] = order as [MatrixUserId, MatrixUserId];
    const { sessionId } = await call();
    const leg = await ringingLeg(sessionId, first);
    await h.core.stop();
    // As if the bridge stopped between ending one step and ringing the next.
    await h.store.transitionLeg(leg.callId, ["ringing"], { state: "ended", endReason: "invite_timeout" });
    h.core = await h.restart();
    await ringingLeg(sessionId, second);
    await until(() => notices.find((n) => n.body.startsWith(`${first} did not answer`)), "the escalation's notice");
    await h.core.stop();
    offset += 60_000;
    h.core = await h.restart();
    await until(async () => (await h.store.getSession(sessionId as never))?.state === "ended", "the call's end");
  });

  test("a call whose lifetime passed while the bridge was down ends: the caller hears could_not_attend, the room a missed call", async () => {
    const [first] = order as [MatrixUserId];
    const { sessionId } = await call(20_000);
    await ringingLeg(sessionId, first);
    await restartAfter(30_000);
    await until(() => h.party.of(sessionId, "hangup").length > 0, "the caller's hangup");
    expect(h.party.of(sessionId, "hangup")).toEqual([{ type: "hangup", reason: "could_not_attend" }]);
    expect((await legs(sessionId)).every((l) => l.state === "ended")).toBe(true);
    await until(() => notices.find((n) => n.body === "Missed: nobody answered (1 tried)"), "the missed notice");
  });
});
