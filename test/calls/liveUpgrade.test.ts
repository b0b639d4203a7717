import { createHash } from "node:crypto";
import { loadMigrations, migrate } from "../../src/store/migrate";
import { TestEngine, pgliteEngine, postgresEngine } from "../store/engines";
import { seedV4 } from "../store/v4Calls";
import { ANSWER, FakeMatrix, callEvent, startHarness, until } from "./fakeSides";

/**
 * Calls live at the moment of the upgrade to migration 005: a store filled
 * by the schema before it (calls rows as that code wrote them) is migrated,
 * the call core starts on it, and each of those calls still ends as it
 * should, from either side or by its lifetime. Both engines.
 */
describe.each([["PGlite", pgliteEngine], ["PostgreSQL", postgresEngine]] as [string, () => TestEngine][])("upgrading with live calls on %s", (_name, makeEngine) => {
  const engine = makeEngine();
  afterAll(() => engine.dispose());

  test("ringing, awaiting_join, connected, outbound and relayed calls end correctly after the migration", async () => {
    const db = await engine.create();
    const raw = await db.raw();
    const token = "token-of-the-upgraded-callers";
    const alice = "@alice:example.org", virtual = "@webcall_alf=40employer.com:example.org", roomId = "!upgraded:example.org";
    let seed;
    try {
      await migrate(raw, loadMigrations().slice(0, 4));
      seed = await seedV4(raw, { alice, virtual, roomId, token, tokenHash: createHash("sha256").update(token).digest("hex"), lifetimeMs: 60_000, relayLifetimeMs: 6000, suffix: "c" });
    } finally {
      await raw.close();
    }
    const matrix = new FakeMatrix();
    matrix.joinedDm(alice, virtual, roomId);
    const h = await startHarness({ store: db.options, matrix });
    try {
      const { ids } = seed;
      await h.core.resume();
      const rc = { requestId: "r", receivedAt: 0 };
      const state = async (id: string) => (await h.store.getSession(id as never))?.state;
      // The WebCall caller hangs up the ringing call: its device stops ringing.
      await h.core.deliver(ids.ringing, token, [{ id: "x1", type: "hangup", reason: "user_hangup" }], rc);
      expect(await state(ids.ringing)).toBe("ended");
      expect(matrix.of("m.call.hangup", roomId).some((e) => e.content.call_id === ids.ringing)).toBe(true);
      // Alice hangs up the connected call from the device that answered.
      await h.core.onMatrixEvent(callEvent("m.call.hangup", { roomId, sender: alice, callId: ids.connected, partyId: "ALICEDEVICE", reason: "user_hangup" }), Date.now());
      expect(await state(ids.connected)).toBe("ended");
      expect(h.party.of(ids.connected, "hangup")).toEqual([{ type: "hangup", reason: "user_hangup" }]);
      expect(matrix.of("m.notice", roomId).some((n) => /ended after/.test(String(n.content.body)))).toBe(true);
      // Alice hangs up her own call ringing at the callee's node.
      await h.core.onMatrixEvent(callEvent("m.call.hangup", { roomId, sender: alice, callId: ids.outRinging, partyId: "ALICEINVITE", reason: "user_hangup" }), Date.now());
      expect(await state(ids.outRinging)).toBe("ended");
      expect(h.party.of(ids.outRinging, "hangup")).toEqual([{ type: "hangup", reason: "user_hangup" }]);
      // The outbound call still being placed is placed again on resume: no node for employer.com here, so it is not put through.
      await until(async () => (await state(ids.outPreparing)) === "ended", "the unplaced call to end");
      expect(matrix.of("m.call.reject", roomId).some((e) => e.content.call_id === ids.outPreparing)).toBe(true);
      // The first-contact call rings once alice joins, and answers.
      const member = { type: "m.room.member", eventId: "$join", roomId, sender: alice, ageMs: 0, target: alice, membership: "join", isDirect: false };
      await h.core.onMatrixEvent(member as never, Date.now());
      await until(() => matrix.of("m.call.invite", roomId).some((e) => e.content.call_id === ids.awaiting), "the awaiting call to ring");
      await h.core.onMatrixEvent(callEvent("m.call.answer", { roomId, sender: alice, callId: ids.awaiting, partyId: "D2", answer: ANSWER }), Date.now());
      expect(await state(ids.awaiting)).toBe("connected");
      // The relay pair ends by its lifetime, both halves, each side told.
      await until(async () => (await state(ids.relayIn)) === "ended" && (await state(ids.relayOut)) === "ended", "the relay to expire", 10_000);
      expect(h.party.of(ids.relayIn, "hangup")).toEqual([{ type: "hangup", reason: "could_not_attend" }]);
      expect(h.party.of(ids.relayOut, "hangup")).toEqual([{ type: "hangup", reason: "invite_timeout" }]);
      expect(await state(ids.ended)).toBe("ended");
      expect((await h.store.liveSessions()).map((s) => s.id)).toEqual([ids.awaiting]);
    } finally {
      await h.close();
      await db.drop();
    }
  }, 30_000);
});
