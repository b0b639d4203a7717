import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { Address } from "../../src/ids/address";
import { Rota, RotaName } from "../../src/model/rota";
import { Store } from "../../src/store";
import { unique } from "./sessionFixtures";

/** A rota with fresh name and room, every part filled in. */
export function aRota(overrides: Partial<Rota> = {}): Rota {
  const name = `on-call-${unique().toLowerCase()}`.slice(0, 60) as RotaName;
  return {
    name,
    roomId: `!${unique()}:example.org` as RoomId,
    members: [{ kind: "matrix", userId: "@alice:example.org" as MatrixUserId }, { kind: "address", address: "carol@hello.com" as Address }],
    rotation: { every: "week", weekday: "mon", time: "09:00", zone: "Europe/London" },
    anchor: Date.UTC(2026, 10, 23, 9),
    overrides: [{ id: 1, member: { kind: "matrix", userId: "@bob:example.org" as MatrixUserId }, from: Date.UTC(2026, 11, 3, 9), until: Date.UTC(2026, 11, 4, 18) }],
    escalation: { mode: "sequence", stepMs: 30_000, thenAll: true },
    rules: { userId: `@${name}:example.org` as MatrixUserId, rules: [{ action: "refuse", anonymous: true }], defaultAction: "ring_verified",
      timeZone: null, notifyRefused: false, version: 0 },
    version: 0,
    ...overrides,
  };
}

/** The rotas part of the Store contract (run by contract.ts on each engine). */
export function rotasContract(getStore: () => Store): void {
  describe("rotas", () => {
    let store: Store;
    beforeAll(() => {
      store = getStore();
    });

    test("a new rota round-trips every part, by name, by room and in the list", async () => {
      const rota = aRota();
      expect(await store.rotas.saveRota(rota, 0)).toBe("saved");
      const saved = { ...rota, version: 1, rules: { ...rota.rules, version: 1 } };
      expect(await store.rotas.getRota(rota.name)).toEqual(saved);
      expect(await store.rotas.getRotaByRoom(rota.roomId)).toEqual(saved);
      expect((await store.rotas.listRotas()).find((r) => r.name === rota.name)).toEqual(saved);
      const roomMembers = aRota({ members: null });
      await store.rotas.saveRota(roomMembers, 0);
      expect((await store.rotas.getRota(roomMembers.name))?.members).toBeNull();
      expect(await store.rotas.getRota(`none-${unique().toLowerCase()}` as RotaName)).toBeUndefined();
    });

    test("a save is compare-and-set on the version: a stale one saves nothing", async () => {
      const rota = aRota();
      await store.rotas.saveRota(rota, 0);
      expect(await store.rotas.saveRota({ ...rota, escalation: { mode: "all" } }, 1)).toBe("saved");
      // Made from version 1 too, after the first moderator's save: lost.
      expect(await store.rotas.saveRota({ ...rota, overrides: [] }, 1)).toBe("conflict");
      const stored = await store.rotas.getRota(rota.name);
      expect(stored).toMatchObject({ version: 2, escalation: { mode: "all" }, overrides: rota.overrides });
      expect(await store.rotas.saveRota({ ...rota, overrides: [] }, 2)).toBe("saved");
      expect((await store.rotas.getRota(rota.name))?.overrides).toEqual([]);
      // A version from the future, or a rota never saved, saves nothing.
      expect(await store.rotas.saveRota(rota, 9)).toBe("conflict");
      expect(await store.rotas.saveRota(aRota(), 1)).toBe("conflict");
    });

    test("two first saves racing: exactly one wins", async () => {
      const rota = aRota();
      const results = await Promise.all([store.rotas.saveRota(rota, 0), store.rotas.saveRota({ ...rota, escalation: { mode: "all" } }, 0)]);
      expect(results.sort()).toEqual(["name_taken", "saved"]);
      expect((await store.rotas.getRota(rota.name))?.version).toBe(1);
    });

    test("names are unique and a room is at most one rota", async () => {
      const first = aRota();
      await store.rotas.saveRota(first, 0);
      expect(await store.rotas.saveRota(aRota({ name: first.name }), 0)).toBe("name_taken");
      expect(await store.rotas.saveRota(aRota({ roomId: first.roomId }), 0)).toBe("room_taken");
      // Both taken: the name is the one to report.
      expect(await store.rotas.saveRota(aRota({ name: first.name, roomId: first.roomId }), 0)).toBe("name_taken");
      expect(await store.rotas.getRota(first.name)).toMatchObject({ roomId: first.roomId, version: 1 });
    });

    test("delete is conditional on the version, and frees the name and the room", async () => {
      const rota = aRota();
      await store.rotas.saveRota(rota, 0);
      await store.rotas.saveRota(rota, 1);
      expect(await store.rotas.deleteRota(rota.name, 1)).toBe(false);
      expect(await store.rotas.getRota(rota.name)).toBeDefined();
      expect(await store.rotas.deleteRota(rota.name, 2)).toBe(true);
      expect(await store.rotas.getRota(rota.name)).toBeUndefined();
      expect(await store.rotas.getRotaByRoom(rota.roomId)).toBeUndefined();
      expect(await store.rotas.deleteRota(rota.name, 2)).toBe(false);
      // A save over the deleted version finds nothing to update.
      expect(await store.rotas.saveRota(rota, 2)).toBe("conflict");
      expect(await store.rotas.saveRota(aRota({ name: rota.name, roomId: rota.roomId }), 0)).toBe("saved");
    });

    test("rota rooms: put (again), get, delete; a rota outlives its room's record", async () => {
      const rota = aRota();
      await store.rotas.saveRota(rota, 0);
      const roomRecord = { roomId: rota.roomId, invitedBy: "@alice:example.org" as MatrixUserId, joinedAt: 1_700_000_000_000 };
      await store.rotas.putRotaRoom(roomRecord);
      await store.rotas.putRotaRoom({ ...roomRecord, invitedBy: "@bob:example.org" as MatrixUserId });
      expect(await store.rotas.getRotaRoom(rota.roomId)).toEqual({ ...roomRecord, invitedBy: "@bob:example.org" });
      await store.rotas.deleteRotaRoom(rota.roomId);
      expect(await store.rotas.getRotaRoom(rota.roomId)).toBeUndefined();
      expect(await store.rotas.getRotaByRoom(rota.roomId)).toBeDefined();
    });

    test("calendar secrets: the first one kept, replaced on reset, only for a rota, gone with it", async () => {
      const rota = aRota();
      const secret = (s: string, at = 1) => ({ name: rota.name, secret: s, createdAt: at });
      expect(await store.calendars.putCalendarSecretIfNone(secret("early"))).toBeUndefined(); // no such rota yet
      expect(await store.calendars.replaceCalendarSecret(secret("early"))).toBe(false);
      await store.rotas.saveRota(rota, 0);
      const [a, b] = await Promise.all([store.calendars.putCalendarSecretIfNone(secret("one")), store.calendars.putCalendarSecretIfNone(secret("two"))]);
      expect(a).toEqual(b);
      expect(["one", "two"]).toContain(a?.secret);
      expect(await store.calendars.putCalendarSecretIfNone(secret("three"))).toEqual(a);
      expect(await store.calendars.replaceCalendarSecret(secret("four", 2))).toBe(true);
      expect(await store.calendars.getCalendarSecret(rota.name)).toEqual(secret("four", 2));
      await store.rotas.saveRota(rota, 1); // an edit of the rota keeps its feed
      expect(await store.calendars.getCalendarSecret(rota.name)).toEqual(secret("four", 2));
      expect(await store.rotas.deleteRota(rota.name, 2)).toBe(true);
      expect(await store.calendars.getCalendarSecret(rota.name)).toBeUndefined();
    });
  });
}
