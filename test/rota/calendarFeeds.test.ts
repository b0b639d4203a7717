import ICAL from "ical.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RoomId } from "../../src/ids/matrix";
import { RotaName } from "../../src/model/rota";
import { CalendarFeeds } from "../../src/rota/CalendarFeeds";
import { RotaService } from "../../src/rota/RotaService";
import { openStore, Store } from "../../src/store";
import { alice, bob, carol, T } from "./fixtures";

/** Calendar feeds over the real store (PGlite): secrets made once, reset,
 *  refused alike when wrong or when the rota is gone. */

const NOW = T("2026-11-25T12:00Z"); // a Wednesday
const ROOM = "!cal:example.org" as RoomId;

let dir: string;
let store: Store;
let rotas: RotaService;
let feeds: CalendarFeeds;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "webcall-calendar-"));
  store = await openStore({ dataDir: path.join(dir, "db") });
  rotas = new RotaService(store.rotas, { domain: "example.org", defaultTimeZone: "Europe/London", maxRules: 10, nameProblem: async () => undefined });
  feeds = new CalendarFeeds(store.calendars, {
    publicUrl: "https://bridge.example.org/webcall/", domain: "example.org",
    membersOf: async (rota) => rota.members ?? [alice, bob, carol],
    rota: (name) => store.rotas.getRota(name),
  });
  await rotas.create(ROOM, "on-call" as RotaName, NOW);
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const secretOf = (url: string): string => /\/calendar\/on-call\/([A-Za-z0-9_-]+)\.ics$/.exec(url)![1]!;

test("the URL is made once, under the public URL's path, and given again after", async () => {
  const rota = (await rotas.byRoom(ROOM))!;
  const url = (await feeds.urlFor(rota, NOW))!;
  expect(url).toMatch(/^https:\/\/bridge\.example\.org\/webcall\/calendar\/on-call\/[A-Za-z0-9_-]{43}\.ics$/);
  expect(await feeds.urlFor(rota, NOW + 1000)).toBe(url);
  expect((await Promise.all([feeds.urlFor(rota, NOW), feeds.urlFor(rota, NOW)])).every((u) => u === url)).toBe(true);
});

test("the feed holds the next weeks of shifts, and ical.js reads it", async () => {
  const rota = (await rotas.byRoom(ROOM))!;
  const secret = secretOf((await feeds.urlFor(rota, NOW))!);
  const feed = (await feeds.feed("on-call", secret, NOW))!;
  const events = new ICAL.Component(ICAL.parse(feed.body)).getAllSubcomponents("vevent").map((e) => new ICAL.Event(e));
  // Daily handovers at 09:00 London: the shift in force (from 09:00 this morning), then one a day
  // starting before noon 8 weeks on (the last at 09:00 that day).
  expect(events).toHaveLength(8 * 7 + 1);
  expect(events[0]!.startDate.toJSDate().getTime()).toBe(T("2026-11-25T09:00Z"));
  expect(events.map((e) => e.summary).slice(0, 4)).toEqual(["On call: @alice:example.org", "On call: @bob:example.org", "On call: @carol:example.org", "On call: @alice:example.org"]);
  expect((await feeds.feed("on-call", secret, NOW, 1))!.body.match(/BEGIN:VEVENT/g)).toHaveLength(7 + 1);
  // At most a year, however many weeks are asked for.
  expect((await feeds.feed("on-call", secret, NOW, 500))!.body.match(/BEGIN:VEVENT/g)).toHaveLength(52 * 7 + 1);
});

test("the ETag follows the shifts, not the moment the copy was made", async () => {
  const rota = (await rotas.byRoom(ROOM))!;
  const secret = secretOf((await feeds.urlFor(rota, NOW))!);
  const first = (await feeds.feed("on-call", secret, NOW))!;
  const later = (await feeds.feed("on-call", secret, NOW + 60_000))!;
  expect(later.body).not.toBe(first.body); // DTSTAMP moved on
  expect(later.etag).toBe(first.etag);
  expect(first.etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
  await rotas.edit(ROOM, { kind: "cover", member: bob, from: T("2026-11-26T12:00Z"), until: T("2026-11-26T18:00Z") }, NOW);
  const covered = (await feeds.feed("on-call", secret, NOW))!;
  expect(covered.etag).not.toBe(first.etag);
  const descriptions = new ICAL.Component(ICAL.parse(covered.body)).getAllSubcomponents("vevent").map((e) => String(e.getFirstPropertyValue("description")));
  expect(descriptions.filter((d) => d.includes("covering (cover 1)"))).toEqual([expect.stringMatching(/^@bob:example\.org is on call/)]);
});

test("a wrong secret, a malformed one, an unknown rota and a bad name all get nothing", async () => {
  const rota = (await rotas.byRoom(ROOM))!;
  const secret = secretOf((await feeds.urlFor(rota, NOW))!);
  const wrong = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
  expect(await feeds.feed("on-call", wrong, NOW)).toBeUndefined();
  expect(await feeds.feed("on-call", secret.slice(1), NOW)).toBeUndefined();
  expect(await feeds.feed("on-call", "", NOW)).toBeUndefined();
  expect(await feeds.feed("no-such-rota", secret, NOW)).toBeUndefined();
  expect(await feeds.feed("../on-call", secret, NOW)).toBeUndefined();
  expect(await feeds.feed("ON-CALL", secret, NOW)).toBeDefined(); // names are case-insensitive, as addresses are
});

test("reset: a new URL, and the old one stops working", async () => {
  const rota = (await rotas.byRoom(ROOM))!;
  const old = secretOf((await feeds.urlFor(rota, NOW))!);
  const fresh = secretOf((await feeds.reset(rota, NOW))!);
  expect(fresh).not.toBe(old);
  expect(await feeds.feed("on-call", old, NOW)).toBeUndefined();
  expect(await feeds.feed("on-call", fresh, NOW)).toBeDefined();
  expect(secretOf((await feeds.urlFor(rota, NOW))!)).toBe(fresh);
});

test("deleting the rota deletes its feed; a rota made again under the name starts without one", async () => {
  const rota = (await rotas.byRoom(ROOM))!;
  const secret = secretOf((await feeds.urlFor(rota, NOW))!);
  await rotas.delete(ROOM);
  expect(await feeds.feed("on-call", secret, NOW)).toBeUndefined();
  expect(await feeds.urlFor(rota, NOW)).toBeUndefined();
  expect(await feeds.reset(rota, NOW)).toBeUndefined();
  const again = await rotas.create(ROOM, "on-call" as RotaName, NOW);
  expect(await feeds.feed("on-call", secret, NOW)).toBeUndefined();
  expect(secretOf((await feeds.urlFor(again, NOW))!)).not.toBe(secret);
});
