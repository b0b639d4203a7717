import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { newPartyId, newSessionId } from "../../src/ids/session";
import { UserRules } from "../../src/model/rules";
import { DmRoom, openStore, Store } from "../../src/store";
import { loadMigrations, migrate, Migration, schemaVersion } from "../../src/store/migrate";
import { SqlClient } from "../../src/store/sql";
import { TestDatabase, TestEngine } from "./engines";
import { inbound, legOf } from "./sessionFixtures";
import { sessionsContract } from "./sessionsContract";
import { rotasContract } from "./rotasContract";
import { migrationOfLiveCalls } from "./liveMigration";

const user = (id: string) => id as MatrixUserId;
const room = (id: string) => id as RoomId;
const unique = () => newPartyId().replace(/[^A-Za-z0-9]/g, "x");

async function tableExists(db: SqlClient, name: string): Promise<boolean> {
  const [row] = await db.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [name]);
  return row!.exists;
}

async function columnExists(db: SqlClient, table: string, column: string): Promise<boolean> {
  const rows = await db.query(
    "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
    [table, column],
  );
  return rows.length > 0;
}

async function versionRows(db: SqlClient): Promise<number> {
  const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_version");
  return row!.n;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Store contract, run against each engine. The whole file shares one
 *  database (a PGlite start-up costs seconds), so every test uses fresh ids. */
export function storeContract(engineFactory: () => TestEngine): void {
  const engine = engineFactory();
  const latest = loadMigrations().length;
  let db: TestDatabase;
  let store: Store;
  const extraStores: Store[] = [];

  beforeAll(async () => {
    db = await engine.create();
  });

  afterAll(async () => {
    await store?.close().catch(() => undefined);
    for (const s of extraStores) await s.close().catch(() => undefined);
    await db?.drop();
    await engine.dispose();
  });

  describe("SqlClient", () => {
    let raw: SqlClient;
    beforeAll(async () => {
      raw = await db.raw();
      await raw.exec("CREATE TABLE sqlclient_probe (name text PRIMARY KEY)");
    });
    afterAll(async () => {
      await raw.exec("DROP TABLE sqlclient_probe");
      await raw.close();
    });

    test("a transaction that throws is rolled back, and the client still works", async () => {
      await expect(raw.transaction(async (tx) => {
        await tx.query("INSERT INTO sqlclient_probe (name) VALUES ($1)", ["rolled-back"]);
        throw new Error("boom");
      })).rejects.toThrow("boom");
      expect(await raw.query("SELECT name FROM sqlclient_probe")).toEqual([]);
      await raw.transaction((tx) => tx.query("INSERT INTO sqlclient_probe (name) VALUES ($1)", ["committed"]));
      expect(await raw.query("SELECT name FROM sqlclient_probe")).toEqual([{ name: "committed" }]);
      await raw.query("DELETE FROM sqlclient_probe");
    });

    test("a plain query issued while a transaction is open does not run inside it", async () => {
      const order: string[] = [];
      let opened!: () => void;
      const isOpen = new Promise<void>((resolve) => { opened = resolve; });
      const txDone = raw.transaction(async (tx) => {
        await tx.query("INSERT INTO sqlclient_probe (name) VALUES ($1)", ["in-tx"]);
        opened();
        await sleep(30);
        const seen = await tx.query<{ name: string }>("SELECT name FROM sqlclient_probe ORDER BY name");
        // PGlite queues the plain query behind the transaction; PostgreSQL runs
        // it on another connection, where it commits on its own.
        if (engine.name === "pglite") expect(seen.map((r) => r.name)).toEqual(["in-tx"]);
        throw new Error("roll back");
      }).catch((err: unknown) => {
        order.push("tx-ended");
        return err;
      });
      await isOpen; // from here on we are outside the transaction's callback
      const plain = raw.query("INSERT INTO sqlclient_probe (name) VALUES ($1)", ["plain"]).then(() => order.push("plain"));
      expect(await txDone).toEqual(new Error("roll back"));
      await plain;
      // Rolling back the transaction did not take the plain insert with it.
      expect((await raw.query<{ name: string }>("SELECT name FROM sqlclient_probe")).map((r) => r.name)).toEqual(["plain"]);
      if (engine.name === "pglite") expect(order).toEqual(["tx-ended", "plain"]);
      await raw.query("DELETE FROM sqlclient_probe");
    });

    // Both engines run a statement as a named prepared statement (parsed once per text).
    test("a statement run again with other values binds them anew, each by its inferred type", async () => {
      const text = "SELECT $1::text AS t, $2::text[] AS a, $3::jsonb AS j, $4::bigint AS b, $5::integer AS i, $6::boolean AS f, $7::text AS n";
      const rows = [
        ["one", ["x", "y,z"], { k: [1, "two"] }, 1796703839128, 7, true, null],
        ["two", [], { k: null }, 0, -1, false, null],
      ];
      for (const values of rows) {
        // int8 comes back as a string from pg and as a number from PGlite; the store's row mapping reads both.
        const [row] = await raw.query<{ b: unknown }>(text, values);
        expect({ ...row, b: Number(row!.b) }).toEqual({ t: values[0], a: values[1], j: values[2], b: values[3], i: values[4], f: values[5], n: null });
      }
    });

    test("a failing statement rejects with the database's error code, and the next one runs", async () => {
      const insert = "INSERT INTO sqlclient_probe (name) VALUES ($1)";
      await raw.query(insert, ["dup"]);
      await expect(raw.query(insert, ["dup"])).rejects.toMatchObject({ code: "23505" });
      await expect(raw.query("SELECT $1::integer AS i", ["not a number"])).rejects.toMatchObject({ code: "22P02" });
      expect(await raw.query(insert + " RETURNING name", ["after"])).toEqual([{ name: "after" }]);
      await raw.query("DELETE FROM sqlclient_probe");
    });

    test("hundreds of distinct statements, each run twice, all answer right", async () => {
      for (let round = 0; round < 2; round++) {
        for (let k = 0; k < 300; k++) {
          expect(await raw.query(`SELECT $1::integer + ${k} AS v`, [round])).toEqual([{ v: round + k }]);
        }
      }
    });

    if (engine.name === "pglite") {
      test("a query on the outer client inside a transaction is refused instead of deadlocking", async () => {
        await expect(raw.transaction(() => raw.query("SELECT 1"))).rejects.toThrow(/deadlock/);
        expect(await raw.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      });
    }
  });

  describe("migrations", () => {
    let raw: SqlClient;
    beforeAll(async () => {
      raw = await db.raw();
    });
    afterAll(async () => {
      await raw.close();
    });

    test("a failing first migration leaves neither its tables nor its version", async () => {
      const bad: Migration[] = [{ version: 1, name: "bad", sql: "CREATE TABLE webcall_bad_one (x integer);\nSELECT 1/0;" }];
      await expect(migrate(raw, bad)).rejects.toThrow(/division by zero/);
      expect(await schemaVersion(raw)).toBe(0);
      expect(await tableExists(raw, "webcall_bad_one")).toBe(false);
    });

    test("migrates an empty database to the latest version", async () => {
      expect(await migrate(raw)).toBe(latest);
      expect(await schemaVersion(raw)).toBe(latest);
      for (const table of ["registered_virtual_users", "dm_rooms", "sessions", "legs", "party_events", "party_events_seen", "handled_events", "rotas", "rota_rooms"]) {
        expect(await tableExists(raw, table)).toBe(true);
      }
    });

    test("a failing later migration leaves neither its changes nor its version", async () => {
      const bad: Migration = {
        version: latest + 1,
        name: "bad",
        sql: "CREATE TABLE webcall_bad_two (x integer);\nALTER TABLE sessions ADD COLUMN bad integer;\nSELECT 1/0;",
      };
      await expect(migrate(raw, [...loadMigrations(), bad])).rejects.toThrow(/division by zero/);
      expect(await schemaVersion(raw)).toBe(latest);
      expect(await versionRows(raw)).toBe(latest);
      expect(await tableExists(raw, "webcall_bad_two")).toBe(false);
      expect(await columnExists(raw, "sessions", "bad")).toBe(false);
      expect(await columnExists(raw, "sessions", "state")).toBe(true);
    });

    test("migrating again is a no-op", async () => {
      expect(await migrate(raw)).toBe(latest);
      expect(await versionRows(raw)).toBe(latest);
    });

    test("refuses a database whose schema is newer than the code", async () => {
      await raw.query("INSERT INTO schema_version (version, name) VALUES ($1, $2)", [latest + 50, "future"]);
      try {
        await expect(migrate(raw)).rejects.toThrow(/newer than this bridge supports/);
      } finally {
        await raw.query("DELETE FROM schema_version WHERE version = $1", [latest + 50]);
      }
    });

    test("migration files must be numbered NNN_name.sql without gaps", async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "webcall-migrations-"));
      try {
        await writeFile(path.join(dir, "001_a.sql"), "SELECT 1;");
        await writeFile(path.join(dir, "README.md"), "ignored");
        expect(loadMigrations(dir).map((m) => [m.version, m.name])).toEqual([[1, "a"]]);
        await writeFile(path.join(dir, "003_c.sql"), "SELECT 1;");
        expect(() => loadMigrations(dir)).toThrow(/numbered/);
        await writeFile(path.join(dir, "2_b.sql"), "SELECT 1;");
        expect(() => loadMigrations(dir)).toThrow(/NNN_name/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    migrationOfLiveCalls(engine);

    if (engine.concurrentInstances) {
      test("two instances starting at once on a fresh database apply each migration once", async () => {
        const fresh = await engine.create();
        const [a, b] = await Promise.all([fresh.raw(), fresh.raw()]);
        try {
          // 001 creates tables without IF NOT EXISTS: applying it twice would fail.
          expect(await Promise.all([migrate(a), migrate(b), migrate(a), migrate(b)])).toEqual([latest, latest, latest, latest]);
          expect(await versionRows(a)).toBe(latest);
        } finally {
          await a.close();
          await b.close();
          await fresh.drop();
        }
      });
    }
  });

  describe("Store", () => {
    beforeAll(async () => {
      store = await openStore(db.options);
    });

    test("registered virtual users", async () => {
      const id = user(`@webcall_${unique()}:example.org`);
      expect(await store.isRegistered(id)).toBe(false);
      await store.markRegistered(id);
      await store.markRegistered(id); // idempotent
      expect(await store.isRegistered(id)).toBe(true);
    });

    describe("DM rooms", () => {
      const pair = () => ({ matrixUserId: user(`@u${unique()}:example.org`), virtualUserId: user(`@webcall_${unique()}:example.org`) });

      test("put, look up by pair and by room id, set joined, delete", async () => {
        const dm: DmRoom = { ...pair(), roomId: room(`!${unique()}:example.org`), matrixUserJoined: false };
        expect(await store.getDmRoom(dm.matrixUserId, dm.virtualUserId)).toBeUndefined();
        expect(await store.getDmRoomById(dm.roomId)).toBeUndefined();
        await store.putDmRoom(dm);
        expect(await store.getDmRoom(dm.matrixUserId, dm.virtualUserId)).toEqual(dm);
        expect(await store.getDmRoomById(dm.roomId)).toEqual(dm);
        await store.setMatrixUserJoined(dm.roomId, true);
        expect(await store.getDmRoomById(dm.roomId)).toEqual({ ...dm, matrixUserJoined: true });
        await store.setMatrixUserJoined(dm.roomId, false);
        expect((await store.getDmRoom(dm.matrixUserId, dm.virtualUserId))?.matrixUserJoined).toBe(false);
        await store.deleteDmRoom(dm.roomId);
        expect(await store.getDmRoom(dm.matrixUserId, dm.virtualUserId)).toBeUndefined();
        expect(await store.getDmRoomById(dm.roomId)).toBeUndefined();
        await store.setMatrixUserJoined(dm.roomId, true); // unknown room: no error
        await store.deleteDmRoom(dm.roomId);
      });

      test("put replaces the pair's previous room", async () => {
        const p = pair();
        const first: DmRoom = { ...p, roomId: room(`!${unique()}:example.org`), matrixUserJoined: true };
        const second: DmRoom = { ...p, roomId: room(`!${unique()}:example.org`), matrixUserJoined: false };
        await store.putDmRoom(first);
        await store.putDmRoom(second);
        expect(await store.getDmRoom(p.matrixUserId, p.virtualUserId)).toEqual(second);
        expect(await store.getDmRoomById(first.roomId)).toBeUndefined();
        expect(await store.getDmRoomById(second.roomId)).toEqual(second);
        await store.putDmRoom(second); // same again: no error
        expect(await store.getDmRoomById(second.roomId)).toEqual(second);
      });

      test("the same Matrix user has separate rooms per virtual user", async () => {
        const matrixUserId = user(`@u${unique()}:example.org`);
        const a: DmRoom = { matrixUserId, virtualUserId: user(`@webcall_a${unique()}:example.org`), roomId: room(`!${unique()}:x`), matrixUserJoined: true };
        const b: DmRoom = { matrixUserId, virtualUserId: user(`@webcall_b${unique()}:example.org`), roomId: room(`!${unique()}:x`), matrixUserJoined: false };
        await store.putDmRoom(a);
        await store.putDmRoom(b);
        expect(await store.getDmRoom(matrixUserId, a.virtualUserId)).toEqual(a);
        expect(await store.getDmRoom(matrixUserId, b.virtualUserId)).toEqual(b);
      });
    });

    sessionsContract(() => store);
    rotasContract(() => store);

    describe("party events", () => {
      test("appendPartyEvent numbers per call from 1; partyEventsSince returns the later ones in order", async () => {
        const a = newSessionId();
        const b = newSessionId();
        const events = [{ type: "answer", sdp: "v=0\r\n" }, { type: "candidates", list: [{ c: 1 }, { c: 2 }] }, { type: "hangup", reason: null }];
        expect(await store.appendPartyEvent(a, events[0]!)).toBe(1);
        expect(await store.appendPartyEvent(b, { type: "other" })).toBe(1);
        expect(await store.appendPartyEvent(a, events[1]!)).toBe(2);
        expect(await store.appendPartyEvent(a, events[2]!)).toBe(3);
        expect(await store.partyEventsSince(a, 0)).toEqual(events.map((event, i) => ({ seq: i + 1, event })));
        expect(await store.partyEventsSince(a, 2)).toEqual([{ seq: 3, event: events[2] }]);
        expect(await store.partyEventsSince(a, 3)).toEqual([]);
        expect(await store.partyEventsSince(b, 0)).toEqual([{ seq: 1, event: { type: "other" } }]);
        expect(await store.partyEventsSince(newSessionId(), 0)).toEqual([]);
      });

      test("concurrent appends get distinct consecutive numbers", async () => {
        const callId = newSessionId();
        const n = 25;
        const seqs = await Promise.all(Array.from({ length: n }, (_, i) => store.appendPartyEvent(callId, { i })));
        expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        const queued = await store.partyEventsSince(callId, 0);
        expect(queued.map((q) => q.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        for (const q of queued) expect(seqs[(q.event as { i: number }).i]).toBe(q.seq);
      });

      test("markPartyEventSeen tells new from seen, per call", async () => {
        const a = newSessionId();
        const b = newSessionId();
        expect(await store.markPartyEventSeen(a, "ev1")).toBe(true);
        expect(await store.markPartyEventSeen(a, "ev1")).toBe(false);
        expect(await store.markPartyEventSeen(a, "ev2")).toBe(true);
        expect(await store.markPartyEventSeen(b, "ev1")).toBe(true);
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.markPartyEventSeen(a, "ev3")));
        expect(raced.filter(Boolean)).toHaveLength(1);
      });
    });

    test("handled events: markEventsHandled returns only the new ids, recentHandledEvents lists the newest first, prune keeps the newest", async () => {
      const [a, b] = [`$${unique()}`, `$${unique()}`];
      expect(await store.recentHandledEvents(1000)).not.toContain(a);
      expect(await store.markEventsHandled([])).toEqual([]);
      expect(await store.markEventsHandled([a])).toEqual([a]);
      expect(await store.recentHandledEvents(1000)).toContain(a);
      expect(await store.markEventsHandled([a, b])).toEqual([b]);
      const later = `$${unique()}`;
      await new Promise((r) => setTimeout(r, 5));
      await store.markEventsHandled([later]);
      expect(await store.recentHandledEvents(1)).toEqual([later]);
      const other = `$${unique()}`;
      const raced = await Promise.all(Array.from({ length: 6 }, () => store.markEventsHandled([other])));
      expect(raced.filter((ids) => ids.length > 0)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 5));
      const newest = `$${unique()}`;
      await store.markEventsHandled([newest]);
      await store.pruneHandledEvents(1);
      const kept = await store.recentHandledEvents(1000);
      expect(kept.slice(0, 2)).toEqual([newest, other]);
      expect(kept).not.toContain(a);
    });

    describe("user rules", () => {
      const rulesOf = (userId: MatrixUserId, overrides: Partial<UserRules> = {}): UserRules => ({
        userId,
        rules: [
          { caller: "*@employer.com", days: ["mon", "tue"], from: "09:00", to: "17:30", timeZone: "Europe/Berlin", action: "ring", label: "work" },
          { anonymous: true, action: "refuse" },
          { domain: "*.example.net", verified: false, action: "forward", forwardTo: "desk@example.net" },
        ],
        defaultAction: "refuse",
        timeZone: "Europe/Berlin",
        notifyRefused: true,
        version: 0,
        ...overrides,
      });

      test("a user who never saved has none; the first save is version 1 and round-trips every field", async () => {
        const userId = user(`@r${unique()}:example.org`);
        expect(await store.getUserRules(userId)).toBeUndefined();
        const first = rulesOf(userId);
        expect(await store.saveUserRules(first, 0)).toBe(true);
        expect(await store.getUserRules(userId)).toEqual({ ...first, version: 1 });
      });

      test("nulls and an empty rule list round-trip", async () => {
        const userId = user(`@r${unique()}:example.org`);
        const empty = rulesOf(userId, { rules: [], defaultAction: null, timeZone: null, notifyRefused: false });
        expect(await store.saveUserRules(empty, 0)).toBe(true);
        expect(await store.getUserRules(userId)).toEqual({ ...empty, version: 1 });
      });

      test("saves are compare-and-set on the version; the version in the record itself is ignored", async () => {
        const userId = user(`@r${unique()}:example.org`);
        expect(await store.saveUserRules(rulesOf(userId), 0)).toBe(true);
        // A second first save, and saves from a version that is not the stored one, change nothing.
        expect(await store.saveUserRules(rulesOf(userId, { rules: [] }), 0)).toBe(false);
        expect(await store.saveUserRules(rulesOf(userId, { rules: [], version: 1 }), 2)).toBe(false);
        expect((await store.getUserRules(userId))?.rules).toHaveLength(3);
        const second = rulesOf(userId, { rules: [{ action: "ring" }], defaultAction: "ring", version: 99 });
        expect(await store.saveUserRules(second, 1)).toBe(true);
        expect(await store.getUserRules(userId)).toEqual({ ...second, version: 2 });
        expect(await store.saveUserRules(second, 1)).toBe(false);
        expect(await store.saveUserRules(rulesOf(userId, { notifyRefused: false }), 2)).toBe(true);
        expect(await store.getUserRules(userId)).toMatchObject({ notifyRefused: false, version: 3 });
      });

      test("saving an unknown user from a version above 0 saves nothing", async () => {
        const userId = user(`@r${unique()}:example.org`);
        expect(await store.saveUserRules(rulesOf(userId), 1)).toBe(false);
        expect(await store.getUserRules(userId)).toBeUndefined();
      });

      test("concurrent saves from the same version: exactly one wins", async () => {
        const userId = user(`@r${unique()}:example.org`);
        const label = (i: number) => rulesOf(userId, { rules: [{ action: "ring", label: `edit ${i}` }] });
        const firsts = await Promise.all(Array.from({ length: 8 }, (_, i) => store.saveUserRules(label(i), 0)));
        expect(firsts.filter(Boolean)).toHaveLength(1);
        const afterFirst = await store.getUserRules(userId);
        expect(afterFirst?.rules).toEqual(label(firsts.indexOf(true)).rules);
        const seconds = await Promise.all(Array.from({ length: 8 }, (_, i) => store.saveUserRules(label(i + 10), 1)));
        expect(seconds.filter(Boolean)).toHaveLength(1);
        expect(await store.getUserRules(userId)).toEqual({ ...label(seconds.indexOf(true) + 10), version: 2 });
      });

      test("users are independent", async () => {
        const a = user(`@a${unique()}:example.org`);
        const b = user(`@b${unique()}:example.org`);
        await store.saveUserRules(rulesOf(a), 0);
        expect(await store.getUserRules(b)).toBeUndefined();
        expect(await store.saveUserRules(rulesOf(b, { rules: [] }), 0)).toBe(true);
        expect((await store.getUserRules(a))?.rules).toHaveLength(3);
      });
    });

    test("bot rooms: put, look up, reassign, delete", async () => {
      const alice = user(`@a${unique()}:example.org`);
      const bob = user(`@b${unique()}:example.org`);
      const roomA = room(`!${unique()}:example.org`);
      expect(await store.getBotRoom(roomA)).toBeUndefined();
      await store.putBotRoom(roomA, alice);
      await store.putBotRoom(roomA, alice); // idempotent
      expect(await store.getBotRoom(roomA)).toEqual({ roomId: roomA, userId: alice });
      const roomA2 = room(`!${unique()}:example.org`);
      await store.putBotRoom(roomA2, alice);
      await store.putBotRoom(roomA, bob); // the room now belongs to bob
      expect(await store.getBotRoom(roomA)).toEqual({ roomId: roomA, userId: bob });
      expect(await store.getBotRoom(roomA2)).toEqual({ roomId: roomA2, userId: alice });
      await store.deleteBotRoom(roomA2);
      expect(await store.getBotRoom(roomA2)).toBeUndefined();
      await store.deleteBotRoom(roomA2); // unknown room: no error
    });

    test("provisioning sessions: create, get (expired ones too), delete one, delete all of a user's", async () => {
      const alice = user(`@a${unique()}:example.org`);
      const bob = user(`@b${unique()}:example.org`);
      const hash = () => createHash("sha256").update(unique()).digest("hex");
      const expiresAt = Date.now() + 86_400_000; // beyond int4 range
      const a1 = { tokenHash: hash(), userId: alice, expiresAt };
      const a2 = { tokenHash: hash(), userId: alice, expiresAt: Date.now() - 1 };
      const b1 = { tokenHash: hash(), userId: bob, expiresAt };
      expect(await store.getProvisioningSession(a1.tokenHash)).toBeUndefined();
      for (const s of [a1, a2, b1]) await store.createProvisioningSession(s);
      expect(await store.getProvisioningSession(a1.tokenHash)).toEqual(a1);
      expect(await store.getProvisioningSession(a2.tokenHash)).toEqual(a2);
      await store.deleteProvisioningSession(a1.tokenHash);
      expect(await store.getProvisioningSession(a1.tokenHash)).toBeUndefined();
      expect(await store.getProvisioningSession(a2.tokenHash)).toEqual(a2);
      await store.createProvisioningSession(a1);
      await store.deleteProvisioningSessions(alice);
      expect(await store.getProvisioningSession(a1.tokenHash)).toBeUndefined();
      expect(await store.getProvisioningSession(a2.tokenHash)).toBeUndefined();
      expect(await store.getProvisioningSession(b1.tokenHash)).toEqual(b1);
      await store.deleteProvisioningSession(a1.tokenHash); // unknown: no error
    });

    if (engine.concurrentInstances) {
      describe("two bridge instances on one database", () => {
        let second: Store;
        beforeAll(async () => {
          second = await openStore(db.options);
          extraStores.push(second);
        });

        test("only one instance wins a transition", async () => {
          const call = inbound();
          await store.insertSession(call, [legOf(call.id)]);
          const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? store : second).endSession(call.id, ["ringing"], { state: "ended", endReason: `r${i}` }, "hangup")));
          expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        });

        test("appends from both instances get distinct consecutive numbers", async () => {
          const callId = newSessionId();
          const seqs = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? store : second).appendPartyEvent(callId, { i })));
          expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        });

        test("rule saves from both instances from one version: one wins", async () => {
          const userId = user(`@r${unique()}:example.org`);
          const rules = (i: number): UserRules => ({ userId, rules: [{ action: "refuse", label: `i${i}` }], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 });
          const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : second).saveUserRules(rules(i), 0)));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect((await second.getUserRules(userId))?.version).toBe(1);
        });

        test("inserts of one session id from both instances: one wins", async () => {
          const call = inbound();
          const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : second).insertSession(call, [legOf(call.id)])));
          expect(results.filter((r) => r.inserted)).toHaveLength(1);
        });
      });
    }

    test("everything persists across close and reopen, and reopening leaves the schema version alone", async () => {
      const call = inbound();
      const leg = legOf(call.id);
      const dm: DmRoom = { matrixUserId: user(`@p${unique()}:example.org`), virtualUserId: user(`@webcall_${unique()}:x`), roomId: room(`!${unique()}:x`), matrixUserJoined: true };
      const virtual = user(`@webcall_${unique()}:example.org`);
      const handled = `$${unique()}`;
      await store.insertSession(call, [leg]);
      await store.putDmRoom(dm);
      await store.markRegistered(virtual);
      await store.markEventsHandled([handled]);
      await store.markPartyEventSeen(call.id, "seen");
      await store.appendPartyEvent(call.id, { n: 1 });
      await store.appendPartyEvent(call.id, { n: 2 });
      const ruleUser = user(`@r${unique()}:example.org`);
      const botRoom = room(`!${unique()}:x`);
      const session = { tokenHash: createHash("sha256").update(unique()).digest("hex"), userId: ruleUser, expiresAt: Date.now() + 1000 };
      await store.saveUserRules({ userId: ruleUser, rules: [{ action: "ring" }], defaultAction: "refuse", timeZone: null, notifyRefused: true, version: 0 }, 0);
      await store.putBotRoom(botRoom, ruleUser);
      await store.createProvisioningSession(session);
      for (const s of extraStores.splice(0)) await s.close();
      await store.close();

      store = await openStore(db.options);
      expect(await store.getSession(call.id)).toEqual(call);
      expect(await store.legsOf(call.id)).toEqual([leg]);
      expect((await store.liveSessions()).some((c) => c.id === call.id)).toBe(true);
      expect(await store.getDmRoomById(dm.roomId)).toEqual(dm);
      expect(await store.isRegistered(virtual)).toBe(true);
      expect(await store.recentHandledEvents(1000)).toContain(handled);
      expect(await store.markPartyEventSeen(call.id, "seen")).toBe(false);
      expect(await store.appendPartyEvent(call.id, { n: 3 })).toBe(3);
      expect((await store.partyEventsSince(call.id, 0)).map((q) => q.event)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(await store.getUserRules(ruleUser)).toEqual({ userId: ruleUser, rules: [{ action: "ring" }], defaultAction: "refuse", timeZone: null, notifyRefused: true, version: 1 });
      expect(await store.getBotRoom(botRoom)).toEqual({ roomId: botRoom, userId: ruleUser });
      expect(await store.getProvisioningSession(session.tokenHash)).toEqual(session);
      await store.close();

      const raw = await db.raw();
      try {
        expect(await schemaVersion(raw)).toBe(latest);
        expect(await versionRows(raw)).toBe(latest);
      } finally {
        await raw.close();
      }
      store = await openStore(db.options); // for afterAll's close
    });
  });
}

