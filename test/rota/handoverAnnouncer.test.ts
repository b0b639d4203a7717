import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { Rota } from "../../src/model/rota";
import { AnnouncerSide, HandoverAnnouncer } from "../../src/rota/HandoverAnnouncer";
import { openStore } from "../../src/store";
import { Store } from "../../src/store/Store";
import { T, rota as aRota } from "./fixtures";

/**
 * The announcer on the real store (PGlite) with the clock given: each
 * handover and reminder reaches the room once, a restart after downtime
 * announces only the present, an edit is remembered rather than announced,
 * and a notice the homeserver refused is sent on a later look.
 */
describe("the handover announcer", () => {
  let store: Store;
  let dir: string;
  let at = T("2026-12-01T12:00Z");
  const sent: { body: string; mentions: readonly MatrixUserId[]; txnId: string }[] = [];
  let failing = false;
  const side = (r: () => Rota): AnnouncerSide => ({
    members: async () => r().members!,
    notice: async (_room, body, mentions, txnId) => {
      if (failing) throw new Error("homeserver unreachable");
      sent.push({ body, mentions, txnId });
    },
  });
  const announcers: HandoverAnnouncer[] = [];
  const announcer = (r: () => Rota) => {
    const a = new HandoverAnnouncer(store.rotas, side(r), { now: () => at, maxSleepMs: 10 * 60_000 });
    announcers.push(a);
    return a;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "webcall-announcer-"));
    store = await openStore({ dataDir: path.join(dir, "db") });
  });
  afterAll(async () => {
    for (const a of announcers) await a.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("handovers and reminders once each; after downtime, the present once; an edit is not announced", async () => {
    const rota = aRota({ roomId: "!ops:example.org" as RoomId });
    expect(await store.rotas.saveRota(rota, 0)).toBe("saved");
    const first = announcer(() => rota);
    // New to the announcer: nothing said; the next wake is carol's reminder.
    await first.start();
    expect(sent).toEqual([]);
    at = T("2026-12-07T08:00Z");
    // The next wake: the handover, or sooner by the 10 min cap.
    expect(await first.lookAt(rota.name)).toBe(T("2026-12-07T08:10Z"));
    expect(sent.map((s) => s.body)).toEqual(["Reminder: @carol:example.org is on call from Mon 7 Dec 09:00 until Mon 14 Dec 09:00 (Europe/London)"]);
    at = T("2026-12-07T09:00Z");
    await first.lookAt(rota.name);
    await first.lookAt(rota.name);
    expect(sent.map((s) => s.body).slice(1)).toEqual(["@carol:example.org is on call until Mon 14 Dec 09:00 (Europe/London); next: @alice:example.org"]);
    expect(sent[1]!.mentions).toEqual(["@carol:example.org"]);
    await first.stop();

    // Down for two weeks: a new process says who is on call now, once, and nothing of the weeks missed.
    sent.length = 0;
    at = T("2026-12-23T10:00Z");
    const second = announcer(() => rota);
    await second.start();
    await second.lookAt(rota.name);
    expect(sent.map((s) => s.body)).toEqual(["@bob:example.org is on call until Mon 28 Dec 09:00 (Europe/London); next: @carol:example.org"]);

    // An edit (here a cover for now, which the command's reply announced) is remembered, not announced again.
    sent.length = 0;
    const covered = { ...rota, overrides: [{ id: 1, member: rota.members![0]!, from: at, until: T("2026-12-24T18:00Z") }] };
    await store.rotas.saveRota(covered, 1);
    const third = announcer(() => covered);
    await third.lookAt(rota.name, "edit");
    await third.lookAt(rota.name);
    expect(sent).toEqual([]);

    // The homeserver refuses the handover's notice: nothing is remembered, the next look sends it.
    at = T("2026-12-24T18:00Z");
    failing = true;
    expect(await third.lookAt(rota.name)).toBe(at + 30_000);
    failing = false;
    await third.lookAt(rota.name);
    expect(sent.map((s) => s.body)).toEqual(["@bob:example.org is on call until Mon 28 Dec 09:00 (Europe/London); next: @carol:example.org"]);
    // The same handover always has the same transaction id (a resend after a crash is one message).
    expect(sent[0]!.txnId).toBe(`rota.${rota.name}.announce.matrix:@bob:example.org@${T("2026-12-24T18:00Z")}`);
  });

  test("a deleted rota is let go", async () => {
    const rota = aRota({ name: "gone" as Rota["name"], roomId: "!gone:example.org" as RoomId });
    await store.rotas.saveRota(rota, 0);
    const a = announcer(() => rota);
    expect(await a.lookAt(rota.name)).toBeDefined();
    await store.rotas.deleteRota(rota.name, 1);
    expect(await a.lookAt(rota.name)).toBeUndefined();
  });
});
