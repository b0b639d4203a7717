import { Address } from "../../src/ids/address";
import { MatrixUserId } from "../../src/ids/matrix";
import { LegState } from "../../src/model/leg";
import { SessionState } from "../../src/model/session";
import { LEG_MOVES, SESSION_MOVES, TRANSITIONS } from "../../src/model/transitions";
import { SetupRequest } from "../../src/protocol/types";
import { inbound, legOf } from "../store/sessionFixtures";
import { ANSWER, Harness, OFFER, callEvent, sleep, startHarness, until } from "./fakeSides";

const SESSION_STATES: SessionState[] = ["preparing", "ringing", "connected", "ended", "replaced"];
const LEG_STATES: LegState[] = ["queued", "preparing", "awaiting_join", "ringing", "connected", "ended"];

describe("the state table against the store, and the races", () => {
  let h: Harness;
  const ALICE = "@alice:example.org", CAROL = "@carol:example.org";
  let aliceRoom: string;

  beforeAll(async () => {
    h = await startHarness();
    aliceRoom = h.matrix.joinedDm(ALICE, h.virtual).roomId;
    h.matrix.existing.add(CAROL);
  });
  afterAll(() => h.close());

  const setup = async (calleeId: string, extra: Partial<SetupRequest> = {}) => {
    const res = await h.core.setup({ calleeId, callerId: "alf@employer.com", offer: OFFER, lifetime: 20_000, ...extra } as SetupRequest, { requestId: "r", receivedAt: 0 });
    if (res.status !== "success") throw new Error("refused");
    return res;
  };

  test("every session row: its event applies from that state, once; from a state not in the table, never", async () => {
    for (const [event, move] of Object.entries(SESSION_MOVES)) {
      for (const state of SESSION_STATES) {
        const s = inbound({ state });
        await h.store.insertSession(s, []);
        const first = await h.store.transitionSession(s.id, move.from, { state: move.to });
        expect([event, state, first?.state]).toEqual([event, state, move.from.includes(state) ? move.to : undefined]);
        const again = await h.store.transitionSession(s.id, move.from, { state: move.to });
        expect([event, state, again]).toEqual([event, state, undefined]);
      }
    }
    expect(TRANSITIONS.filter((r) => r.machine === "session").every((r) => SESSION_MOVES[r.event as keyof typeof SESSION_MOVES].from.includes(r.state as SessionState))).toBe(true);
  });

  test("every leg row: likewise", async () => {
    const s = inbound();
    await h.store.insertSession(s, []);
    for (const [event, move] of Object.entries(LEG_MOVES)) {
      for (const state of LEG_STATES) {
        const leg = legOf(s.id, Math.floor(Math.random() * 1e9), { state });
        const other = inbound();
        await h.store.insertSession(other, [{ ...leg, sessionId: other.id }]);
        const first = await h.store.transitionLeg(leg.callId, move.from, { state: move.to });
        expect([event, state, first?.state]).toEqual([event, state, move.from.includes(state) ? move.to : undefined]);
        expect(await h.store.transitionLeg(leg.callId, move.from, { state: move.to })).toBeUndefined();
      }
    }
  });

  test("an answer racing the lifetime: the caller hears the answer or could_not_attend, never both", async () => {
    for (const delay of [150, 190, 200, 210]) {
      const { sessionId } = await setup("alice@example.org", { lifetime: 200 });
      await until(() => h.matrix.of("m.call.invite", aliceRoom).some((e) => e.content.call_id === sessionId), "the invite");
      await sleep(delay - 10);
      await h.core.onMatrixEvent(callEvent("m.call.answer", { roomId: aliceRoom, sender: ALICE, callId: sessionId, partyId: "D", answer: ANSWER }), Date.now());
      await sleep(100);
      const answered = h.party.of(sessionId, "answer").length, expired = h.party.of(sessionId, "hangup").length;
      expect(answered + expired).toBe(1);
      const state = (await h.store.getSession(sessionId as never))?.state;
      expect(state).toBe(answered ? "connected" : "ended");
    }
  });

  test("glare while the WebCall call waits for a first-contact join: the user's own call wins, the party is told to answer it", async () => {
    const { sessionId } = await setup("carol@example.org");
    const leg = await until(async () => (await h.store.legsOf(sessionId as never)).find((l) => l.state === "awaiting_join"), "first contact");
    const own = "zzzzzzzzzzzzzzzzzzzzzzgreater";
    await h.core.onMatrixEvent(callEvent("m.call.invite", { roomId: leg.roomId, sender: CAROL, callId: own, partyId: "C", offer: OFFER, lifetimeMs: 30_000, invitee: h.virtual }), Date.now());
    expect(h.party.of(sessionId, "replace")).toEqual([{ type: "replace", sessionId: own, offer: OFFER }]);
    expect((await h.store.getSession(sessionId as never))?.state).toBe("replaced");
    // Its invite never went out: nothing to hang up in the DM.
    expect(h.matrix.of("m.call.hangup", leg.roomId!).filter((e) => e.content.call_id === sessionId)).toEqual([]);
  });

  test("glare while both invites are out: the greater id loses; the user's call is rejected by the bridge", async () => {
    const { sessionId } = await setup("alice@example.org");
    await until(() => h.matrix.of("m.call.invite", aliceRoom).some((e) => e.content.call_id === sessionId), "the invite");
    const own = `zzzzzz${sessionId}`; // greater than the session id
    await h.core.onMatrixEvent(callEvent("m.call.invite", { roomId: aliceRoom, sender: ALICE, callId: own, partyId: "A", offer: OFFER, lifetimeMs: 30_000, invitee: h.virtual }), Date.now());
    expect((await h.store.getSession(sessionId as never))?.state).toBe("ringing");
    expect((await h.store.getSession(own as never))?.state).toBe("replaced");
    expect(h.matrix.of("m.call.reject", aliceRoom).some((e) => e.content.call_id === own)).toBe(true);
  });

  test("a ring group whose second user cannot be confirmed rings the first alone", async () => {
    h.core.ringGroupAt("pair@example.org" as Address, { targets: [ALICE, "@nobody:example.org"] as MatrixUserId[], mode: { mode: "all" } });
    const { sessionId } = await setup("pair@example.org");
    expect((await h.store.legsOf(sessionId as never)).map((l) => l.matrixUserId)).toEqual([ALICE]);
  });
});
