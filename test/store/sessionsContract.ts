import { Address } from "../../src/ids/address";
import { newSessionId } from "../../src/ids/session";
import { LegId } from "../../src/model/leg";
import { RotaName } from "../../src/model/rota";
import { SESSION_MOVES } from "../../src/model/transitions";
import { Store } from "../../src/store";
import { inbound, legOf, memberOut, outbound, relayPair, room, tick, unique, user } from "./sessionFixtures";

/** The sessions-and-legs part of the Store contract (run by contract.ts on each engine). */
export function sessionsContract(getStore: () => Store): void {
  describe("sessions and legs", () => {
    let store: Store;
    beforeAll(() => {
      store = getStore();
    });

    test("each kind round-trips every field, with its legs in order", async () => {
      const a = inbound();
      const legs = [legOf(a.id, 0), legOf(a.id, 1, { state: "queued", roomId: null }), legOf(a.id, 2, { state: "awaiting_join", matrixVersion: "0", matrixPartyId: "P" })];
      expect(await store.insertSession(a, legs)).toEqual({ inserted: true });
      expect(await store.getSession(a.id)).toEqual(a);
      expect(await store.legsOf(a.id)).toEqual(legs);
      expect(await store.getLeg(legs[1]!.callId)).toEqual(legs[1]);
      expect(await store.getSessionWithLegs(a.id)).toEqual({ session: a, legs });

      const answered = outbound({ state: "connected", answer: { type: "answer", sdp: "v=0\r\n" }, answeredAt: tick(), endReason: "x",
        party: { tokenHash: "12".repeat(32), delivery: { mode: "pull" } } });
      await store.insertSession(answered, [legOf(answered.id)]);
      expect(await store.getSession(answered.id)).toEqual(answered);
      const unplaced = outbound({ caller: "alice@example.org" as never });
      await store.insertSession(unplaced, []);
      expect(await store.getSession(unplaced.id)).toEqual(unplaced);
      expect(await store.getSessionWithLegs(unplaced.id)).toEqual({ session: unplaced, legs: [] });

      const [rin, rout] = relayPair();
      await store.insertSession(rin, []);
      await store.insertSession(rout, []);
      expect(await store.getSession(rin.id)).toEqual(rin);
      expect(await store.getSession(rout.id)).toEqual(rout);
      const attempt = memberOut(a.id);
      await store.insertSession(attempt, []);
      expect(await store.getSession(attempt.id)).toEqual(attempt);
      expect(await store.getSession(newSessionId())).toBeUndefined();
    });

    test("a rota call keeps its rota and each leg its step and the step's end, for a restart", async () => {
      const rota = { name: "on-call" as RotaName, roomId: room(`!${unique()}:example.org`), caller: "alf@employer.com ✓", onCall: user("@bob:example.org") };
      const a = inbound({ rota });
      const endsAt = tick() + 20_000;
      const legs = [legOf(a.id, 0, { state: "preparing", stepEndsAt: endsAt }), legOf(a.id, 1, { state: "queued", step: 1 }), legOf(a.id, 2, { state: "queued", step: 1 })];
      expect(await store.insertSession(a, legs)).toEqual({ inserted: true });
      expect(await store.getSessionWithLegs(a.id)).toEqual({ session: a, legs });
      // One leg alone takes the one-leg insert's typed parameters.
      const single = inbound({ rota: { ...rota, onCall: null } });
      const only = legOf(single.id, 0, { state: "preparing", step: 3, stepEndsAt: endsAt });
      await store.insertSession(single, [only]);
      expect(await store.getSessionWithLegs(single.id)).toEqual({ session: single, legs: [only] });
      // The next step's end is set as it starts ringing, conditionally on the leg still being queued.
      const next = tick() + 40_000;
      expect(await store.transitionLeg(legs[1]!.callId, ["queued"], { state: "preparing", stepEndsAt: next }))
        .toEqual({ ...legs[1], state: "preparing", stepEndsAt: next });
      expect(await store.transitionLeg(legs[1]!.callId, ["queued"], { state: "preparing", stepEndsAt: 1 })).toBeUndefined();
      expect((await store.getLeg(legs[1]!.callId))?.stepEndsAt).toBe(next);
      // A direct call has no rota.
      const direct = inbound();
      await store.insertSession(direct, [legOf(direct.id)]);
      expect(await store.getSession(direct.id)).not.toHaveProperty("rota");
    });

    test("a rota call keeps its plan for members on other nodes; its attempts, live and ended, are found by it, oldest first", async () => {
      const hop = { by: "employer.com", from: "alf@employer.com", to: "on-call@example.org", reason: "forward", ts: 1_700_000_000_000, key: "k".repeat(43), sig: "s".repeat(86) };
      const rota = {
        name: "on-call" as RotaName, roomId: room(`!${unique()}:example.org`), caller: "alf@employer.com ✓", onCall: user("@bob:example.org"),
        remote: [{ address: "carol@hello.example" as Address, step: 1 }, { address: "dave@other.example" as Address, step: 3 }], chain: [hop],
      };
      const a = inbound({ rota });
      await store.insertSession(a, [legOf(a.id, 0, { state: "preparing", stepEndsAt: tick() + 20_000 })]);
      expect(await store.getSession(a.id)).toEqual(a);
      expect(await store.liveSessions()).toContainEqual(a);
      expect(await store.memberAttempts(a.id)).toEqual([]);
      const first = memberOut(a.id);
      await store.insertSession(first, []);
      const ended = await store.transitionSession(first.id, ["preparing"], { state: "ended", endReason: "declined", endedAt: tick() });
      const second = { ...memberOut(a.id), callee: "dave@other.example" as Address };
      await store.insertSession(second, []);
      await store.insertSession(memberOut(inbound().id), []);
      expect(await store.memberAttempts(a.id)).toEqual([ended, second]);
      expect(await store.memberAttempts(newSessionId())).toEqual([]);
    });

    test("an existing session id inserts nothing and returns the existing session; concurrent inserts: one wins", async () => {
      const a = inbound();
      await store.insertSession(a, [legOf(a.id)]);
      expect(await store.insertSession({ ...a, via: ["other"] }, [legOf(a.id, 1)])).toEqual({ inserted: false, existing: a });
      expect(await store.legsOf(a.id)).toHaveLength(1);
      const b = inbound();
      const results = await Promise.all(Array.from({ length: 8 }, () => store.insertSession(b, [legOf(b.id)])));
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
    });

    test("transitions apply only from the given states; concurrent ones: exactly one wins", async () => {
      const a = inbound();
      const [leg] = [legOf(a.id)];
      await store.insertSession(a, [leg!]);
      expect(await store.transitionSession(a.id, ["preparing"], { state: "connected" })).toBeUndefined();
      expect(await store.transitionLeg(leg!.callId, ["queued"], { state: "connected" })).toBeUndefined();
      expect(await store.transitionSession(a.id, ["ringing"], {})).toEqual(a);
      const party = { tokenHash: "99".repeat(32), delivery: { mode: "pull" as const } };
      expect(await store.transitionSession(a.id, ["ringing"], { party, setupResponse: { x: 1 } }))
        .toEqual({ ...a, party, setup: { ...a.setup, response: { x: 1 } } });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        store.transitionLeg(leg!.callId, ["ringing"], { state: "connected", matrixPartyId: `d${i}` })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.transitionLeg("nope" as LegId, ["ringing"], { state: "ended" })).toBeUndefined();
    });

    test("answerLeg: the first answer wins, the other live legs end answered elsewhere, a second answer loses", async () => {
      const a = inbound();
      const legs = [legOf(a.id, 0), legOf(a.id, 1), legOf(a.id, 2, { state: "queued" }), legOf(a.id, 3, { state: "ended", endReason: "declined" })];
      await store.insertSession(a, legs);
      const answer = { type: "answer" as const, sdp: "v=0\r\n" };
      const from = { session: SESSION_MOVES.answer.from, leg: ["ringing" as const] };
      const [won, lost] = await Promise.all([
        store.answerLeg(legs[1]!.callId, a.id, from, { session: { state: "connected", answer, answeredAt: 5 }, leg: { state: "connected", matrixPartyId: "D1" } }),
        store.answerLeg(legs[0]!.callId, a.id, from, { session: { state: "connected", answer, answeredAt: 6 }, leg: { state: "connected", matrixPartyId: "D0" } }),
      ]);
      const winner = won ?? lost!;
      expect([won, lost].filter(Boolean)).toHaveLength(1);
      expect(winner.session).toMatchObject({ state: "connected", answer });
      expect(winner.leg.state).toBe("connected");
      const others = winner.others.map((o) => [o.position, o.was, o.state, o.endReason]).sort();
      const loser = winner.leg.position === 1 ? 0 : 1;
      expect(others).toEqual([[loser, "ringing", "ended", "answered_elsewhere"], [2, "queued", "ended", "answered_elsewhere"]].sort());
      expect((await store.getLeg(legs[3]!.callId))?.endReason).toBe("declined");
      expect(await store.answerLeg(legs[loser]!.callId, a.id, from, { session: { state: "connected" }, leg: { state: "connected" } })).toBeUndefined();
    });

    test("endSession ends the session and its live legs once, reporting what they were", async () => {
      const a = inbound();
      const legs = [legOf(a.id, 0, { state: "connected" }), legOf(a.id, 1, { state: "ended", endReason: "answered_elsewhere" })];
      await store.insertSession(a, legs);
      const ends = await Promise.all([1, 2].map((i) =>
        store.endSession(a.id, SESSION_MOVES.hangup.from, { state: "ended", endReason: `r${i}`, endedAt: 7 }, "hangup")));
      const ended = ends.find(Boolean)!;
      expect(ends.filter(Boolean)).toHaveLength(1);
      expect(ended.session).toMatchObject({ state: "ended", endedAt: 7 });
      expect(ended.legs.map((l) => [l.position, l.was, l.state, l.endReason])).toEqual([[0, "connected", "ended", "hangup"]]);
      const lone = outbound();
      await store.insertSession(lone, []);
      expect((await store.endSession(lone.id, ["preparing"], { state: "replaced", replacedBy: a.id }, "glare"))?.legs).toEqual([]);
    });

    test("live sessions and live legs in a room, oldest session first", async () => {
      const roomId = room(`!${unique()}:example.org`);
      const older = inbound(), newer = outbound(), over = inbound({ state: "ended" });
      await store.insertSession(newer, [legOf(newer.id, 0, { roomId })]);
      await store.insertSession(over, [legOf(over.id, 0, { roomId, state: "ended" })]);
      await store.insertSession(older, [legOf(older.id, 0, { roomId, state: "awaiting_join" }), legOf(older.id, 1)]);
      expect((await store.liveLegsInRoom(roomId)).map((l) => l.sessionId)).toEqual([older.id, newer.id]);
      const live = new Set((await store.liveSessions()).map((s) => s.id));
      expect([live.has(older.id), live.has(newer.id), live.has(over.id)]).toEqual([true, true, false]);
      expect(await store.liveLegsInRoom(room("!empty:example.org"))).toEqual([]);
    });
  });
}
