import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { RuleError } from "../../src/model/rules";
import { Rota, RotaName } from "../../src/model/rota";
import { RotaEdit } from "../../src/rota/commands";
import { applyRotaEdit, DEFAULT_ESCALATION, newRota, RotaEditContext } from "../../src/rota/edits";
import { RotaService } from "../../src/rota/RotaService";
import { anchorFor } from "../../src/rota/schedule";
import { openStore, Store } from "../../src/store";
import { alice, bob, carol, T } from "./fixtures";

const NOW = T("2026-11-25T12:00Z"); // a Wednesday
const ctx: RotaEditContext = { now: NOW, anchorFor, maxRules: 3 };
const fresh = (): Rota => newRota("on-call" as RotaName, "!r:example.org" as RoomId, { ...ctx, zone: "Europe/London", domain: "example.org" });
const apply = (rota: Rota, edit: RotaEdit, at = NOW): Rota => applyRotaEdit(rota, edit, { ...ctx, now: at });

function refusal(rota: Rota, edit: RotaEdit): string {
  try {
    apply(rota, edit);
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    return (e as RuleError).message;
  }
  throw new Error("the edit applied");
}

describe("applying rota edits", () => {
  test("a new rota: daily 09:00 in the bridge's zone from today's handover, the room's members, 30s then all, no rules", () => {
    const rota = fresh();
    expect(rota).toMatchObject({
      members: null, rotation: { every: "day", time: "09:00", zone: "Europe/London" }, anchor: T("2026-11-25T09:00Z"),
      overrides: [], escalation: DEFAULT_ESCALATION, version: 0,
      rules: { userId: "@on-call:example.org", rules: [], defaultAction: null },
    });
    expect(DEFAULT_ESCALATION).toEqual({ mode: "sequence", stepMs: 30_000, thenAll: true });
  });

  test("members and escalation replace what was there", () => {
    const rota = apply(apply(fresh(), { kind: "members", members: [alice, bob] }), { kind: "escalation", escalation: { mode: "all" } });
    expect(rota.members).toEqual([alice, bob]);
    expect(rota.escalation).toEqual({ mode: "all" });
    expect(apply(rota, { kind: "members", members: null }).members).toBeNull();
  });

  test("a new rotation starts the order again at its latest handover, in its own zone", () => {
    const rota = apply(fresh(), { kind: "rotation", rotation: { every: "week", weekday: "mon", time: "09:00", zone: "America/New_York" } });
    expect(rota.anchor).toBe(T("2026-11-23T14:00Z")); // Monday 09:00 in New York (EST)
  });

  test("covers are numbered on, each new one above every other; uncover takes one back; ended ones are dropped", () => {
    let rota = apply(fresh(), { kind: "cover", member: bob, from: NOW, until: T("2026-11-26T18:00Z") });
    rota = apply(rota, { kind: "cover", member: carol, from: T("2026-12-03T09:00Z"), until: T("2026-12-04T18:00Z") });
    expect(rota.overrides.map((o) => [o.id, o.member])).toEqual([[1, bob], [2, carol]]);
    rota = apply(rota, { kind: "uncover", id: 1 });
    expect(rota.overrides.map((o) => o.id)).toEqual([2]);
    rota = apply(rota, { kind: "cover", member: alice, from: NOW, until: T("2026-11-27T09:00Z") });
    expect(rota.overrides.map((o) => o.id)).toEqual([2, 3]);
    // A week later cover 3 is over: the next edit forgets it.
    const later = apply(rota, { kind: "escalation", escalation: { mode: "all" } }, T("2026-12-02T00:00Z"));
    expect(later.overrides.map((o) => o.id)).toEqual([2]);
  });

  test("covers that make no sense are refused, naming why", () => {
    const rota = apply(fresh(), { kind: "cover", member: bob, from: NOW, until: T("2026-11-26T18:00Z") });
    expect(refusal(rota, { kind: "cover", member: bob, from: T("2026-11-27T09:00Z"), until: T("2026-11-26T09:00Z") })).toMatch(/end after it starts/);
    expect(refusal(rota, { kind: "cover", member: bob, from: T("2026-11-20T09:00Z"), until: T("2026-11-21T09:00Z") })).toMatch(/already be over/);
    expect(refusal(rota, { kind: "cover", member: bob, from: NOW, until: T("2028-01-01T00:00Z") })).toMatch(/at most a year/);
    expect(refusal(rota, { kind: "cover", member: bob, from: NOW, until: T("2026-11-26T18:00Z") })).toMatch(/Cover 1 is exactly that/);
    expect(refusal(rota, { kind: "uncover", id: 7 })).toBe("There is no cover 7: the covers are 1.");
    expect(refusal(fresh(), { kind: "uncover", id: 1 })).toBe("There is no cover 1: this rota has no covers.");
  });

  test("rules edits are the users' edits, with the same limits", () => {
    const allow = { kind: "edit", edit: { kind: "add", rule: { action: "ring", caller: "*@customer.com" } } } as const;
    let rota = apply(fresh(), { kind: "rules", command: allow });
    rota = apply(rota, { kind: "rules", command: { kind: "edit", edit: { kind: "default", action: "refuse" } } });
    expect(rota.rules).toMatchObject({ rules: [{ action: "ring", caller: "*@customer.com" }], defaultAction: "refuse" });
    expect(refusal(rota, { kind: "rules", command: { kind: "edit", edit: { kind: "remove", rule: 4 } } })).toMatch(/no rule 4/);
    rota = apply(apply(rota, { kind: "rules", command: allow }), { kind: "rules", command: allow });
    expect(refusal(rota, { kind: "rules", command: allow })).toMatch(/already have 3 rules/);
  });
});

describe("RotaService on the store", () => {
  let dir: string;
  let store: Store;
  const taken = new Set(["alice"]);
  const service = (attempts?: number) => new RotaService(store.rotas, {
    domain: "example.org", defaultTimeZone: "Europe/London", maxRules: 10, ...(attempts ? { maxEditAttempts: attempts } : {}),
    nameProblem: async (name) => (taken.has(name) ? "a user of this homeserver has that name" : undefined),
  });
  const room = (n: string) => `!${n}:example.org` as RoomId;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "webcall-rota-"));
    store = await openStore({ dataDir: path.join(dir, "db") });
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("create saves version 1; one rota per room, names unique, a user's name refused", async () => {
    const rotas = service();
    const created = await rotas.create(room("a"), "on-call" as RotaName, NOW);
    expect(created).toMatchObject({ name: "on-call", roomId: room("a"), version: 1 });
    expect(await rotas.byRoom(room("a"))).toEqual(created);
    await expect(rotas.create(room("a"), "other" as RotaName, NOW)).rejects.toThrow("This room is already the rota on-call@example.org; rota delete first to start again.");
    await expect(rotas.create(room("b"), "on-call" as RotaName, NOW)).rejects.toThrow("Another room already is the rota on-call@example.org; choose another name.");
    await expect(rotas.create(room("b"), "alice" as RotaName, NOW)).rejects.toThrow("A rota can't be called alice: a user of this homeserver has that name.");
    expect(await rotas.byRoom(room("b"))).toBeUndefined();
  });

  test("edits of a room with no rota say how to make one", async () => {
    await expect(service().edit(room("none"), { kind: "escalation", escalation: { mode: "all" } }, NOW)).rejects.toThrow(/not a rota yet.*rota create/);
    await expect(service().delete(room("none"))).rejects.toThrow(/not a rota yet/);
  });

  test("two instances editing at once: both edits are kept", async () => {
    await service().create(room("c"), "support" as RotaName, NOW);
    const [one, two] = [service(), service()];
    await Promise.all([
      one.edit(room("c"), { kind: "cover", member: bob, from: NOW, until: T("2026-11-26T18:00Z") }, NOW),
      two.edit(room("c"), { kind: "members", members: [alice, bob, carol] }, NOW),
      two.edit(room("c"), { kind: "escalation", escalation: { mode: "sequence", stepMs: 60_000, thenAll: false } }, NOW),
    ]);
    const rota = await one.byRoom(room("c"));
    expect(rota).toMatchObject({ version: 4, members: [alice, bob, carol], escalation: { stepMs: 60_000 }, overrides: [{ id: 1, member: bob }] });
  });

  test("a stored rota is the one edits start from: another instance's save is not lost", async () => {
    const [one, two] = [service(), service()];
    await one.create(room("d"), "billing" as RotaName, NOW);
    await two.edit(room("d"), { kind: "members", members: [carol] }, NOW);
    const { before, after } = await one.edit(room("d"), { kind: "escalation", escalation: { mode: "all" } }, NOW);
    expect(before.members).toEqual([carol]);
    expect(after).toMatchObject({ members: [carol], escalation: { mode: "all" }, version: 3 });
  });

  test("delete frees the room and the name", async () => {
    const rotas = service();
    await rotas.create(room("e"), "night" as RotaName, NOW);
    expect((await rotas.delete(room("e"))).name).toBe("night");
    expect(await rotas.byRoom(room("e"))).toBeUndefined();
    expect(await rotas.create(room("f"), "night" as RotaName, NOW)).toMatchObject({ roomId: room("f") });
  });

  test("rules saved with the rota carry its version", async () => {
    const rotas = service();
    await rotas.create(room("g"), "sales" as RotaName, NOW);
    const { after } = await rotas.edit(room("g"), { kind: "rules", command: { kind: "edit", edit: { kind: "add", rule: { action: "refuse", anonymous: true } } } }, NOW);
    expect(after.rules).toMatchObject({ userId: "@sales:example.org" as MatrixUserId, rules: [{ action: "refuse", anonymous: true }], version: 2 });
    expect((await rotas.byName("sales" as RotaName))?.rules).toEqual(after.rules);
  });
});
