import ICAL from "ical.js";
import { CALENDAR_PATH, CALENDAR_SECRET, Listener } from "./listenerHarness";

/** The calendar route of the public listener, over a source with one feed:
 *  its headers, 304, 404s that are all the same, methods, and its own limit. */

let l: Listener;
beforeAll(async () => { l = await Listener.start(); });
afterAll(() => l.stop());

test("a feed: text/calendar in UTF-8, private no-cache, a weak ETag, no referrer", async () => {
  const res = await l.fetch(CALENDAR_PATH);
  expect(res.status).toBe(200);
  expect(Object.fromEntries(["content-type", "cache-control", "etag", "referrer-policy", "x-content-type-options", "access-control-allow-origin"]
    .map((h) => [h, res.headers.get(h)]))).toEqual({
    "content-type": "text/calendar; charset=utf-8", "cache-control": "private, no-cache", etag: 'W/"1"',
    "referrer-policy": "no-referrer", "x-content-type-options": "nosniff", "access-control-allow-origin": "*",
  });
  const events = new ICAL.Component(ICAL.parse(await res.text())).getAllSubcomponents("vevent");
  expect(events.map((e) => e.getFirstPropertyValue("summary"))).toEqual(["On call: @bob:node.test"]);
});

test("If-None-Match with the tag (weak or strong, in a list, or *) gets 304 and no body; another tag the feed", async () => {
  for (const tag of ['W/"1"', '"1"', '"x", W/"1"', "*"]) {
    const res = await l.fetch(CALENDAR_PATH, { headers: { "if-none-match": tag } });
    expect([tag, res.status, await res.text()]).toEqual([tag, 304, ""]);
  }
  expect((await l.fetch(CALENDAR_PATH, { headers: { "if-none-match": 'W/"2"' } })).status).toBe(200);
});

test("weeks is passed on when 1-52, else 400", async () => {
  expect((await l.fetch(`${CALENDAR_PATH}?weeks=52`)).headers.get("etag")).toBe('W/"52"');
  for (const weeks of ["0", "53", "1.5", "-1", "x", "01"]) {
    const res = await l.fetch(`${CALENDAR_PATH}?weeks=${weeks}`);
    expect([weeks, res.status, (await res.json() as { errcode: string }).errcode]).toEqual([weeks, 400, "WEBCALL_BAD_REQUEST"]);
  }
});

test("a wrong secret, an unknown rota, a wrong extension and an unknown path answer alike", async () => {
  const paths = [
    `/webcall/calendar/on-call/${"D".repeat(43)}.ics`, `/webcall/calendar/other/${CALENDAR_SECRET}.ics`,
    `/webcall/calendar/on-call/${CALENDAR_SECRET}.json`, `/webcall/calendar/on-call/${"x".repeat(200)}.ics`, "/webcall/calendar/on-call", "/webcall/nothing",
  ];
  const answers = await Promise.all(paths.map(async (p) => {
    const res = await l.fetch(p);
    return { status: res.status, type: res.headers.get("content-type"), cache: res.headers.get("cache-control"), body: await res.text() };
  }));
  for (const answer of answers) expect(answer).toEqual(answers[answers.length - 1]);
  expect(answers[0]).toMatchObject({ status: 404, cache: "no-store", body: JSON.stringify({ errcode: "WEBCALL_NOT_FOUND", error: "no such endpoint" }) });
});

test("GET only (a preflight is answered); HEAD gives the headers", async () => {
  const post = await l.fetch(CALENDAR_PATH, { method: "POST" });
  expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, OPTIONS"]);
  const preflight = await l.fetch(CALENDAR_PATH, { method: "OPTIONS", headers: { origin: "https://page.example", "access-control-request-method": "GET" } });
  expect([preflight.status, preflight.headers.get("access-control-allow-methods")]).toEqual([204, "GET"]);
  const head = await l.fetch(CALENDAR_PATH, { method: "HEAD" });
  expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([200, "text/calendar; charset=utf-8", ""]);
});

test("each client may fetch 30 feeds a minute; then 429 with Retry-After", async () => {
  const fresh = await Listener.start();
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await fresh.fetch(`/webcall/calendar/on-call/${"E".repeat(43)}.ics`)).status);
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true);
    const limited = await fresh.fetch(CALENDAR_PATH);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ errcode: "WEBCALL_RATE_LIMITED" });
    // The rest of the listener is not limited by it.
    expect((await fresh.fetch("/webcall/keys")).status).toBe(200);
  } finally {
    await fresh.stop();
  }
});
