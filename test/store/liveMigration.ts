import { createHash } from "node:crypto";
import { openStore } from "../../src/store";
import { loadMigrations, migrate } from "../../src/store/migrate";
import { TestEngine } from "./engines";
import { seedV4 } from "./v4Calls";

/** Migration 005 on a store filled by the schema before it (run by contract.ts on each engine). */
export function migrationOfLiveCalls(engine: TestEngine): void {
  test("005 turns every calls row into a session and, for inbound and outbound calls, its leg", async () => {
    const db = await engine.create();
    const raw = await db.raw();
    let closed = false;
    try {
      await migrate(raw, loadMigrations().slice(0, 4));
      const token = "the-callers-token";
      const seed = await seedV4(raw, { alice: "@alice:example.org", virtual: "@webcall_alf=40employer.com:example.org", roomId: "!dm:example.org",
        token, tokenHash: createHash("sha256").update(token).digest("hex"), lifetimeMs: 60_000, suffix: "a" });
      await raw.query("INSERT INTO party_events_seen (call_id, event_id) VALUES ($1, 'e1')", [seed.ids.ringing]);
      await raw.query("INSERT INTO party_event_counters (call_id, last_seq) VALUES ($1, 1)", [seed.ids.ringing]);
      await raw.query("INSERT INTO party_events (call_id, seq, event) VALUES ($1, 1, '{\"type\":\"answer\"}'::jsonb)", [seed.ids.ringing]);
      await raw.close();
      closed = true;

      const store = await openStore(db.options);
      try {
        const { ids } = seed;
        const get = async (id: string) => ({ session: await store.getSession(id as never), legs: await store.legsOf(id as never) });
        const ringing = await get(ids.ringing);
        expect(ringing.session).toMatchObject({ kind: "inbound", state: "ringing", caller: "alf@employer.com",
          party: { delivery: { mode: "pull" } }, setup: { response: { sessionId: ids.ringing } } });
        expect(ringing.legs).toEqual([expect.objectContaining({ callId: ids.ringing, sessionId: ids.ringing, position: 0, state: "ringing", roomId: "!dm:example.org" })]);
        const awaiting = await get(ids.awaiting);
        expect([awaiting.session?.state, awaiting.legs[0]?.state]).toEqual(["ringing", "awaiting_join"]);
        const connected = await get(ids.connected);
        expect([connected.session?.state, connected.legs[0]?.state, connected.legs[0]?.matrixPartyId]).toEqual(["connected", "connected", "ALICEDEVICE"]);
        const outPreparing = await get(ids.outPreparing);
        expect(outPreparing.session).toMatchObject({ kind: "outbound", state: "preparing", party: null });
        expect(outPreparing.legs[0]).toMatchObject({ state: "ringing", matrixPartyId: "ALICEINVITE" });
        expect((await get(ids.outRinging)).session).toMatchObject({ kind: "outbound", state: "ringing",
          party: { delivery: { mode: "push", notifyUrl: "http://127.0.0.1:1/webcall", token: "node-token", peerNode: "employer.com" } } });
        const relayIn = await get(ids.relayIn);
        expect(relayIn.session).toMatchObject({ kind: "relay_in", peer: ids.relayOut, forwardedBy: "@alice:example.org" });
        expect(relayIn.legs).toEqual([]);
        expect((await get(ids.relayOut)).session).toMatchObject({ kind: "relay_out", peer: ids.relayIn, callee: "bob@next.example" });
        const ended = await get(ids.ended);
        expect([ended.session?.state, ended.legs[0]?.state, ended.legs[0]?.endReason]).toEqual(["ended", "ended", "invite_timeout"]);
        expect((await store.liveSessions()).map((s) => s.id).sort()).toEqual(Object.values(ids).filter((id) => id !== ids.ended).sort());
        expect((await store.liveLegsInRoom("!dm:example.org" as never)).map((l) => l.callId))
          .toEqual([ids.ringing, ids.awaiting, ids.connected, ids.outPreparing, ids.outRinging]);
        // Party events carried over under the session.
        expect(await store.markPartyEventSeen(ids.ringing as never, "e1")).toBe(false);
        expect(await store.appendPartyEvent(ids.ringing as never, { type: "hangup" })).toBe(2);
        // And a migrated call ends as any other: once, with its leg.
        const end = () => store.endSession(ids.ringing as never, ["ringing"], { state: "ended", endReason: "party_hangup" }, "party_hangup");
        expect((await end())?.legs.map((l) => l.was)).toEqual(["ringing"]);
        expect(await end()).toBeUndefined();
      } finally {
        await store.close();
      }
    } finally {
      if (!closed) await raw.close();
      await db.drop();
    }
  });
}
