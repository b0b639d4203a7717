import { webcallConfig } from "./fakeNode";
import { AUTH, EVENTS_PATH, Listener } from "./listenerHarness";

/**
 * A page on another origin calls this node (a browser caller, a call link
 * page): preflights are answered, and every response, errors included, lets
 * any origin read it, without credentials (the token is a header, never a cookie).
 */

const ORIGIN = "https://call-page.example";
const OFFER = { type: "offer", sdp: "v=0\r\n" };

let l: Listener;
beforeAll(async () => { l = await Listener.start(); });
afterAll(() => l.stop());

function preflight(path: string, method: string, headers: string): Promise<Response> {
  return l.fetch(path, {
    method: "OPTIONS",
    headers: { origin: ORIGIN, "access-control-request-method": method, "access-control-request-headers": headers },
  });
}

/** The headers a browser needs on an actual (non-preflight) response. */
function expectReadable(res: Response): void {
  expect(res.headers.get("access-control-allow-origin")).toBe("*");
  expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
  expect(exposed).toEqual(expect.arrayContaining(["x-request-id", "retry-after", "www-authenticate"]));
}

describe("preflight (OPTIONS)", () => {
  it.each([
    ["setup", "/webcall", "POST", "content-type,webcall-signature", "POST"],
    ["event delivery", EVENTS_PATH, "POST", "authorization,content-type,webcall-signature", "GET, POST"],
    ["pull (SSE or long poll)", EVENTS_PATH, "GET", "authorization,last-event-id", "GET, POST"],
    ["keys", "/webcall/keys", "GET", "", "GET"],
    ["schemas", "/webcall/schemas/error.json", "GET", "", "GET"],
  ])("%s: 204 with the methods and headers the route takes", async (_name, path, method, requested, methods) => {
    const before = l.node.calls.length;
    const res = await preflight(path, method, requested);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBe(methods);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["content-type", "authorization", "last-event-id", "webcall-signature"]));
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("allow")).toBe(`${methods}, OPTIONS`);
    expect(l.node.calls.slice(before)).toEqual([]); // a preflight reaches no session
  });

  it("needs no token, and is answered for any session id in a well-formed path", async () => {
    expect((await preflight("/webcall/sessions/another-session-0001/events", "GET", "authorization")).status).toBe(204);
  });

  it("an unknown path is still 404, readable by the page", async () => {
    const res = await preflight("/webcall/nothing", "POST", "content-type");
    expect(res.status).toBe(404);
    expectReadable(res);
  });

  it("405 names OPTIONS among the allowed methods", async () => {
    const res = await l.fetch("/webcall", { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST, OPTIONS");
  });
});

describe("actual responses", () => {
  const json = { "content-type": "application/json", origin: ORIGIN };

  it("setup", async () => {
    const res = await l.fetch("/webcall", { method: "POST", headers: json, body: JSON.stringify({ calleeId: "alice@example.org", offer: OFFER }) });
    expect(res.status).toBe(200);
    expectReadable(res);
  });

  it("event delivery", async () => {
    const res = await l.fetch(EVENTS_PATH, { method: "POST", headers: { ...json, ...AUTH }, body: JSON.stringify({ events: [{ id: "e1", type: "candidates", candidates: [{ candidate: "" }] }] }) });
    expect(res.status).toBe(200);
    expectReadable(res);
  });

  it("long poll", async () => {
    const res = await l.fetch(`${EVENTS_PATH}?timeout=0`, { headers: { origin: ORIGIN, ...AUTH } });
    expect(res.status).toBe(200);
    expectReadable(res);
  });

  it("event stream", async () => {
    const controller = new AbortController();
    const res = await l.fetch(EVENTS_PATH, { headers: { origin: ORIGIN, accept: "text/event-stream", ...AUTH }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expectReadable(res);
    controller.abort();
  });

  it("keys and schemas", async () => {
    for (const path of ["/webcall/keys", "/webcall/schemas/defs.json"]) {
      const res = await l.fetch(path, { headers: { origin: ORIGIN } });
      expect(res.status).toBe(200);
      expectReadable(res);
    }
  });

  it.each([
    ["401 without a token", EVENTS_PATH, { method: "GET" }, 401],
    ["400 for a bad body", "/webcall", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, 400],
    ["415 for a bad content type", "/webcall", { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }, 415],
  ] as [string, string, RequestInit, number][])("errors too: %s", async (_name, path, init, status) => {
    const res = await l.fetch(path, { ...init, headers: { origin: ORIGIN, ...init.headers as Record<string, string> } });
    expect(res.status).toBe(status);
    expectReadable(res);
    expect((await res.json()).errcode).toMatch(/^WEBCALL_/);
  });
});

it("429 is readable too, with its Retry-After", async () => {
  const limited = await Listener.start({ ...webcallConfig(), rateLimit: { windowMs: 60_000, max: 1 } });
  try {
    await limited.fetch("/webcall/keys");
    const res = await limited.fetch("/webcall/keys", { headers: { origin: ORIGIN } });
    expect(res.status).toBe(429);
    expectReadable(res);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  } finally {
    await limited.stop();
  }
});
