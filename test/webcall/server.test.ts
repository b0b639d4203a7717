import { DomainError } from "../../src/errors/DomainError";
import { setLogLevel } from "../../src/log";
import { SessionEvent } from "../../src/protocol/types";
import { createWebCallServer, WebCallServer } from "../../src/webcall/server";
import { NodeSigning } from "../signing/nodeSigning";
import { FakeNode, webcallConfig } from "./fakeNode";

setLogLevel("error");

const SID = "session-aaaaaaaaaaaa";
const TOKEN = "A".repeat(43);
const OFFER = { type: "offer", sdp: "v=0\r\n" };

interface Answer { status: number; headers: Headers; body: any; text: string }

let node: FakeNode;
let server: WebCallServer;
let base: string;

let signing: NodeSigning | undefined;

async function start(config = webcallConfig(), options = {}): Promise<void> {
  node = new FakeNode();
  node.addSession(SID, TOKEN);
  signing ??= await NodeSigning.open("node.test");
  server = createWebCallServer(node, config, signing, options);
  const { port } = await server.listen();
  base = `http://127.0.0.1:${port}`;
}

afterAll(async () => { await signing?.close(); });

async function call(method: string, path: string, init: { json?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const eventsPath = `/webcall/sessions/${SID}/events`;
const hangup: SessionEvent = { id: "e1", type: "hangup", reason: "user_hangup" };

function expectError(answer: Answer, status: number, errcode: string): void {
  expect({ status: answer.status, errcode: answer.body?.errcode }).toEqual({ status, errcode });
  expect(Object.keys(answer.body).sort()).toEqual(["errcode", "error"]);
  expect(typeof answer.body.error).toBe("string");
  expect(answer.text).not.toMatch(/\bat .*\(|\.ts:\d+|stack/);
}

describe("WebCall listener: good requests", () => {
  beforeAll(() => start());
  afterAll(() => server.close());

  it("sets up a call and passes a normalised request and a request id", async () => {
    const answer = await call("POST", "/webcall", {
      json: { calleeId: "alice@Example.ORG", callerId: "Alf@Employer.com", offer: OFFER, lifetime: 60000, via: ["Node.Example"], notify: "https://n.example/webcall" },
      headers: { "x-request-id": "req-123" },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: "success", sessionId: "generated-session-0001", token: "t".repeat(43) });
    expect(answer.headers.get("x-request-id")).toBe("req-123");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.headers.get("x-powered-by")).toBeNull();
    const [request, ctx] = node.calls.at(-1)!.args as [any, any];
    expect(request).toEqual({ calleeId: "alice@example.org", callerId: "Alf@employer.com", offer: OFFER, lifetime: 60000, via: ["node.example"], notify: "https://n.example/webcall" });
    expect(ctx).toEqual({ requestId: "req-123", receivedAt: expect.any(Number), signatureCheckMs: expect.any(Number) });
  });

  it("creates a request id when none (or a bad one) is given", async () => {
    const answer = await call("POST", "/webcall", { json: { calleeId: "alice@example.org" }, headers: { "x-request-id": "bad id with spaces" } });
    expect(answer.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect((node.calls.at(-1)!.args[1] as any).requestId).toBe(answer.headers.get("x-request-id"));
  });

  it("answers could_not_attend neutrally", async () => {
    node.setupImpl = async () => ({ status: "could_not_attend" });
    const answer = await call("POST", "/webcall", { json: { calleeId: "alice@example.org" } });
    expect(answer.body).toEqual({ status: "could_not_attend" });
  });

  it("accepts application/json with a charset", async () => {
    const answer = await call("POST", "/webcall", { json: { calleeId: "alice@example.org" }, headers: { "content-type": "application/json; charset=utf-8" } });
    expect(answer.status).toBe(200);
  });

  it("delivers events", async () => {
    const events: SessionEvent[] = [
      { id: "c1", type: "candidates", candidates: [{ candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host", sdpMid: "0", sdpMLineIndex: 0 }, { candidate: "" }] },
      { id: "a1", type: "answer", answer: { type: "answer", sdp: "v=0\r\n" } },
      { id: "n1", type: "negotiate", description: { type: "offer", sdp: "v=0\r\n" } },
      { id: "r1", type: "replace", sessionId: "other-session-00001", offer: { type: "offer", sdp: "v=0\r\n" } },
      hangup,
    ];
    const answer = await call("POST", eventsPath, { json: { events }, headers: auth });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({});
    expect(node.calls.at(-1)).toEqual({ method: "deliver", args: [SID, TOKEN, events, expect.objectContaining({ requestId: expect.any(String) })] });
  });

  it("serves the published schemas", async () => {
    const answer = await call("GET", "/webcall/schemas/setup-request.json");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/schema\+json/);
    expect(answer.body.$id).toMatch(/setup-request\.json$/);
    expectError(await call("GET", "/webcall/schemas/constructor"), 404, "WEBCALL_NOT_FOUND");
  });
});

describe("WebCall listener: bad input", () => {
  beforeAll(() => start());
  afterAll(() => server.close());

  const big = "x".repeat(70 * 1024);
  const tooManyEvents = Array.from({ length: 101 }, (_, i) => ({ id: `e${i}`, type: "hangup", reason: "user_hangup" }));
  const tooManyCandidates = Array.from({ length: 101 }, () => ({ candidate: "" }));

  type Case = [name: string, method: string, path: string, init: Parameters<typeof call>[2], status: number, errcode: string, message?: RegExp];
  const cases: Case[] = [
    // setup
    ["setup: malformed JSON", "POST", "/webcall", { raw: "{\"calleeId\":", headers: { "content-type": "application/json" } }, 400, "WEBCALL_BAD_JSON"],
    ["setup: JSON scalar", "POST", "/webcall", { raw: "\"hi\"", headers: { "content-type": "application/json" } }, 400, "WEBCALL_BAD_JSON"],
    ["setup: array body", "POST", "/webcall", { json: [] }, 400, "WEBCALL_BAD_REQUEST", /^body must be object$/],
    ["setup: text/plain", "POST", "/webcall", { raw: "{}", headers: { "content-type": "text/plain" } }, 415, "WEBCALL_BAD_CONTENT_TYPE"],
    ["setup: no content type", "POST", "/webcall", { raw: "{}" }, 415, "WEBCALL_BAD_CONTENT_TYPE"],
    ["setup: latin1 charset", "POST", "/webcall", { raw: "{}", headers: { "content-type": "application/json; charset=latin1" } }, 415, "WEBCALL_BAD_CONTENT_TYPE"],
    ["setup: gzip encoding", "POST", "/webcall", { raw: "{}", headers: { "content-type": "application/json", "content-encoding": "gzip" } }, 415, "WEBCALL_BAD_CONTENT_TYPE"],
    ["setup: empty body", "POST", "/webcall", { headers: { "content-type": "application/json" } }, 400, "WEBCALL_BAD_REQUEST", /^body must have field 'calleeId'$/],
    ["setup: application/jsonp", "POST", "/webcall", { raw: "{}", headers: { "content-type": "application/jsonp" } }, 415, "WEBCALL_BAD_CONTENT_TYPE"],
    ["setup: missing calleeId", "POST", "/webcall", { json: {} }, 400, "WEBCALL_BAD_REQUEST", /^body must have field 'calleeId'$/],
    ["setup: extra field", "POST", "/webcall", { json: { calleeId: "a@b.org", color: "red" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/color is not an allowed field$/],
    ["setup: sdp not a string", "POST", "/webcall", { json: { calleeId: "a@b.org", offer: { type: "offer", sdp: 5 } } }, 400, "WEBCALL_BAD_REQUEST", /^body\/offer\/sdp must be string$/],
    ["setup: offer of type answer", "POST", "/webcall", { json: { calleeId: "a@b.org", offer: { type: "answer", sdp: "v=0" } } }, 400, "WEBCALL_BAD_REQUEST", /^body\/offer\/type must be "offer"$/],
    ["setup: sdp too large", "POST", "/webcall", { json: { calleeId: "a@b.org", offer: { type: "offer", sdp: "x".repeat(61441) } } }, 400, "WEBCALL_BAD_REQUEST", /^body\/offer\/sdp must NOT have more than 61440 characters$/],
    ["setup: lifetime a string", "POST", "/webcall", { json: { calleeId: "a@b.org", lifetime: "90000" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/lifetime must be integer$/],
    ["setup: lifetime too short", "POST", "/webcall", { json: { calleeId: "a@b.org", lifetime: 999 } }, 400, "WEBCALL_BAD_REQUEST", /^body\/lifetime must be >= 1000$/],
    ["setup: lifetime too long", "POST", "/webcall", { json: { calleeId: "a@b.org", lifetime: 600001 } }, 400, "WEBCALL_BAD_REQUEST"],
    ["setup: lifetime fractional", "POST", "/webcall", { json: { calleeId: "a@b.org", lifetime: 1000.5 } }, 400, "WEBCALL_BAD_REQUEST"],
    ["setup: short sessionId", "POST", "/webcall", { json: { calleeId: "a@b.org", sessionId: "short" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/sessionId must NOT have fewer than 16 characters$/],
    ["setup: sessionId bad chars", "POST", "/webcall", { json: { calleeId: "a@b.org", sessionId: "abcdefghijklmnop/q" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/sessionId must be 16-255 characters/],
    ["setup: short token", "POST", "/webcall", { json: { calleeId: "a@b.org", token: "abc" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/token /],
    ["setup: token with space", "POST", "/webcall", { json: { calleeId: "a@b.org", token: `${"a".repeat(30)} b` } }, 400, "WEBCALL_BAD_REQUEST", /^body\/token must be 22-512/],
    ["setup: notify not a URL", "POST", "/webcall", { json: { calleeId: "a@b.org", notify: "node.example" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/notify /],
    ["setup: notify ftp", "POST", "/webcall", { json: { calleeId: "a@b.org", notify: "ftp://node.example/x" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/notify must be an http\(s\) URL$/],
    ["setup: via not a list", "POST", "/webcall", { json: { calleeId: "a@b.org", via: "a.org" } }, 400, "WEBCALL_BAD_REQUEST", /^body\/via must be array$/],
    ["setup: via too long", "POST", "/webcall", { json: { calleeId: "a@b.org", via: Array.from({ length: 17 }, (_, i) => `n${i}.org`) } }, 400, "WEBCALL_BAD_REQUEST", /^body\/via must NOT have more than 16 items$/],
    ["setup: via bad domain", "POST", "/webcall", { json: { calleeId: "a@b.org", via: ["ok.org", "bad domain"] } }, 400, "WEBCALL_BAD_ADDRESS", /^body\/via\/1 /],
    ["setup: calleeId no domain", "POST", "/webcall", { json: { calleeId: "alice" } }, 400, "WEBCALL_BAD_ADDRESS", /^body\/calleeId must be an address/],
    ["setup: calleeId empty local", "POST", "/webcall", { json: { calleeId: "@example.org" } }, 400, "WEBCALL_BAD_ADDRESS"],
    ["setup: calleeId bad local char", "POST", "/webcall", { json: { calleeId: "al ice@example.org" } }, 400, "WEBCALL_BAD_ADDRESS"],
    ["setup: calleeId bad domain", "POST", "/webcall", { json: { calleeId: "alice@-example.org" } }, 400, "WEBCALL_BAD_ADDRESS"],
    ["setup: calleeId with port", "POST", "/webcall", { json: { calleeId: "alice@example.org:443" } }, 400, "WEBCALL_BAD_ADDRESS"],
    ["setup: calleeId local too long", "POST", "/webcall", { json: { calleeId: `${"a".repeat(256)}@example.org` } }, 400, "WEBCALL_BAD_ADDRESS"],
    ["setup: calleeId a number", "POST", "/webcall", { json: { calleeId: 5 } }, 400, "WEBCALL_BAD_ADDRESS"],
    ["setup: callerId bad", "POST", "/webcall", { json: { calleeId: "a@b.org", callerId: "alf@" } }, 400, "WEBCALL_BAD_ADDRESS", /^body\/callerId /],
    ["setup: oversized", "POST", "/webcall", { json: { calleeId: "a@b.org", offer: { type: "offer", sdp: big } } }, 413, "WEBCALL_TOO_LARGE"],
    // deliver
    ["deliver: malformed JSON", "POST", eventsPath, { raw: "{", headers: { ...auth, "content-type": "application/json" } }, 400, "WEBCALL_BAD_JSON"],
    ["deliver: text/plain", "POST", eventsPath, { raw: "{}", headers: { ...auth, "content-type": "text/plain" } }, 415, "WEBCALL_BAD_CONTENT_TYPE"],
    ["deliver: missing events", "POST", eventsPath, { json: {}, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body must have field 'events'$/],
    ["deliver: no events", "POST", eventsPath, { json: { events: [] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events must NOT have fewer than 1 items$/],
    ["deliver: too many events", "POST", eventsPath, { json: { events: tooManyEvents }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events must NOT have more than 100 items$/],
    ["deliver: unknown event type", "POST", eventsPath, { json: { events: [{ id: "x", type: "ring" }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0\/type must be one of/],
    ["deliver: event without type", "POST", eventsPath, { json: { events: [{ id: "x" }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0 must have field 'type'$/],
    ["deliver: event without id", "POST", eventsPath, { json: { events: [{ type: "hangup", reason: "user_hangup" }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0 must have field 'id'$/],
    ["deliver: bad hangup reason", "POST", eventsPath, { json: { events: [{ id: "x", type: "hangup", reason: "bored" }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0\/reason must be one of "user_hangup"/],
    ["deliver: answer missing", "POST", eventsPath, { json: { events: [{ id: "x", type: "answer" }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0 must have field 'answer'$/],
    ["deliver: answer sdp wrong type", "POST", eventsPath, { json: { events: [{ id: "x", type: "answer", answer: { type: "answer", sdp: [] } }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0\/answer\/sdp must be string$/],
    ["deliver: extra event field", "POST", eventsPath, { json: { events: [{ ...hangup, extra: 1 }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0\/extra is not an allowed field$/],
    ["deliver: extra body field", "POST", eventsPath, { json: { events: [hangup], more: 1 }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/more is not an allowed field$/],
    ["deliver: too many candidates", "POST", eventsPath, { json: { events: [{ id: "x", type: "candidates", candidates: tooManyCandidates }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0\/candidates must NOT have more than 100 items$/],
    ["deliver: replace bad sessionId", "POST", eventsPath, { json: { events: [{ id: "x", type: "replace", sessionId: "s", offer: OFFER }] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^body\/events\/0\/sessionId /],
    ["deliver: oversized", "POST", eventsPath, { json: { events: [{ id: "x", type: "answer", answer: { type: "answer", sdp: big } }] }, headers: auth }, 413, "WEBCALL_TOO_LARGE"],
    ["deliver: bad sessionId", "POST", "/webcall/sessions/short/events", { json: { events: [hangup] }, headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^path\/sessionId /],
    ["deliver: missing token", "POST", eventsPath, { json: { events: [hangup] } }, 401, "WEBCALL_MISSING_TOKEN"],
    ["deliver: basic auth", "POST", eventsPath, { json: { events: [hangup] }, headers: { authorization: "Basic abc" } }, 401, "WEBCALL_MISSING_TOKEN"],
    ["deliver: malformed token", "POST", eventsPath, { json: { events: [hangup] }, headers: { authorization: "Bearer short" } }, 401, "WEBCALL_BAD_TOKEN"],
    // pull
    ["poll: bad since", "GET", `${eventsPath}?since=-1`, { headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^query\/since /],
    ["poll: since not a number", "GET", `${eventsPath}?since=abc`, { headers: auth }, 400, "WEBCALL_BAD_REQUEST"],
    ["poll: since twice", "GET", `${eventsPath}?since=1&since=2`, { headers: auth }, 400, "WEBCALL_BAD_REQUEST"],
    ["poll: bad timeout", "GET", `${eventsPath}?timeout=soon`, { headers: auth }, 400, "WEBCALL_BAD_REQUEST", /^query\/timeout /],
    ["poll: bad Last-Event-ID", "GET", eventsPath, { headers: { ...auth, accept: "text/event-stream", "last-event-id": "x" } }, 400, "WEBCALL_BAD_REQUEST", /^header\/Last-Event-ID /],
    ["poll: bad sessionId", "GET", "/webcall/sessions/a%2Fb/events", { headers: auth }, 400, "WEBCALL_BAD_REQUEST"],
    ["poll: missing token", "GET", eventsPath, {}, 401, "WEBCALL_MISSING_TOKEN"],
    ["sse: missing token", "GET", eventsPath, { headers: { accept: "text/event-stream" } }, 401, "WEBCALL_MISSING_TOKEN"],
    // routes and methods
    ["unknown route", "GET", "/nothing", {}, 404, "WEBCALL_NOT_FOUND"],
    ["unknown route under base", "POST", "/webcall/sessions", { json: {} }, 404, "WEBCALL_NOT_FOUND"],
    ["GET setup", "GET", "/webcall", {}, 405, "WEBCALL_METHOD_NOT_ALLOWED"],
    ["PUT events", "PUT", eventsPath, { json: {}, headers: auth }, 405, "WEBCALL_METHOD_NOT_ALLOWED"],
    ["POST schema", "POST", "/webcall/schemas/error.json", { json: {} }, 405, "WEBCALL_METHOD_NOT_ALLOWED"],
  ];

  // (one rest parameter: jest would take a 7th declared parameter for a `done` callback)
  it.each(cases)("%s", async (...row: Case) => {
    const [, method, path, init, status, errcode, message] = row;
    const before = node.calls.length;
    const answer = await call(method, path, init);
    expectError(answer, status, errcode);
    if (message) expect(answer.body.error).toMatch(message);
    expect(node.calls.slice(before)).toEqual([]);
    if (status === 405) expect(answer.headers.get("allow")).toBeTruthy();
    if (status === 401) expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer/);
    // and the server still serves a good request
    const good = await call("POST", "/webcall", { json: { calleeId: "alice@example.org" } });
    expect(good.status).toBe(200);
  });

  it("passes the node's own refusals through: wrong token, unknown session, session over", async () => {
    expectError(await call("POST", eventsPath, { json: { events: [hangup] }, headers: { authorization: `Bearer ${"B".repeat(43)}` } }), 401, "WEBCALL_BAD_TOKEN");
    expectError(await call("POST", "/webcall/sessions/unknown-session-0001/events", { json: { events: [hangup] }, headers: auth }), 404, "WEBCALL_UNKNOWN_SESSION");
    expectError(await call("GET", `${eventsPath}?since=0`, { headers: { authorization: `Bearer ${"B".repeat(43)}` } }), 401, "WEBCALL_BAD_TOKEN");
    expectError(await call("GET", "/webcall/sessions/unknown-session-0001/events", { headers: { ...auth, accept: "text/event-stream" } }), 404, "WEBCALL_UNKNOWN_SESSION");
    expect(node.subscribers("unknown-session-0001")).toBe(0);
    node.setupImpl = async () => { throw new DomainError("WEBCALL_NEED_SESSION", "bring an offer and try again"); };
    expectError(await call("POST", "/webcall", { json: { calleeId: "alice@example.org" } }), 422, "WEBCALL_NEED_SESSION");
  });

  it("answers 500 without details when the node throws something unexpected", async () => {
    node.setupImpl = async () => { throw new Error("database exploded at /srv/secret.ts:12"); };
    const answer = await call("POST", "/webcall", { json: { calleeId: "alice@example.org" } });
    expectError(answer, 500, "WEBCALL_INTERNAL");
    expect(answer.body.error).toBe("internal error");
    expect(answer.text).not.toContain("exploded");
  });

  it("never sends a response that fails its schema", async () => {
    node.setupImpl = async () => ({ status: "success", sessionId: "short", token: TOKEN });
    const answer = await call("POST", "/webcall", { json: { calleeId: "alice@example.org" } });
    expectError(answer, 500, "WEBCALL_INTERNAL");
    expect(answer.text).not.toContain("short");
    // Another listener's problem is not the WebCall listener's to send.
    node.setupImpl = async () => { throw new DomainError("M_FORBIDDEN", "odd"); };
    expectError(await call("POST", "/webcall", { json: { calleeId: "alice@example.org" } }), 500, "WEBCALL_INTERNAL");
  });
});

describe("WebCall listener: limits", () => {
  afterEach(() => server.close());

  it("rate-limits per client with Retry-After", async () => {
    await start(webcallConfig({ rateLimit: { windowMs: 60000, max: 3 } }));
    for (let i = 0; i < 3; i++) expect((await call("POST", "/webcall", { json: { calleeId: "a@b.org" } })).status).toBe(200);
    const before = node.calls.length;
    const answer = await call("POST", "/webcall", { json: { calleeId: "a@b.org" } });
    expectError(answer, 429, "WEBCALL_RATE_LIMITED");
    expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(answer.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(node.calls.length).toBe(before);
  });

  it("ignores X-Forwarded-For unless trustProxy", async () => {
    await start(webcallConfig({ rateLimit: { windowMs: 60000, max: 1 } }));
    expect((await call("POST", "/webcall", { json: { calleeId: "a@b.org" }, headers: { "x-forwarded-for": "1.1.1.1" } })).status).toBe(200);
    expect((await call("POST", "/webcall", { json: { calleeId: "a@b.org" }, headers: { "x-forwarded-for": "2.2.2.2" } })).status).toBe(429);
    await server.close();
    await start(webcallConfig({ rateLimit: { windowMs: 60000, max: 1 }, trustProxy: true }));
    expect((await call("POST", "/webcall", { json: { calleeId: "a@b.org" }, headers: { "x-forwarded-for": "1.1.1.1" } })).status).toBe(200);
    expect((await call("POST", "/webcall", { json: { calleeId: "a@b.org" }, headers: { "x-forwarded-for": "2.2.2.2" } })).status).toBe(200);
    expect((await call("POST", "/webcall", { json: { calleeId: "a@b.org" }, headers: { "x-forwarded-for": "9.9.9.9, 2.2.2.2" } })).status).toBe(429);
  });

  it("answers 503 with Retry-After: 1 when the node is too slow", async () => {
    await start(webcallConfig({ requestTimeoutMs: 200 }));
    node.setupImpl = () => new Promise((resolve) => setTimeout(() => resolve({ status: "could_not_attend" }), 600));
    const answer = await call("POST", "/webcall", { json: { calleeId: "a@b.org" } });
    expectError(answer, 503, "WEBCALL_UNAVAILABLE");
    expect(answer.headers.get("retry-after")).toBe("1");
    node.deliverImpl = () => new Promise((_resolve, reject) => setTimeout(() => reject(new Error("late")), 400));
    expectError(await call("POST", eventsPath, { json: { events: [hangup] }, headers: auth }), 503, "WEBCALL_UNAVAILABLE");
    await new Promise((resolve) => setTimeout(resolve, 500)); // the late rejection must not crash anything
  });

  it("serves routes under the root when publicUrl has no path", async () => {
    await start(webcallConfig({ publicUrl: "https://webcall.test" }));
    expect((await call("POST", "/", { json: { calleeId: "a@b.org" } })).status).toBe(200);
    expect((await call("POST", `/sessions/${SID}/events`, { json: { events: [hangup] }, headers: auth })).status).toBe(200);
    expectError(await call("POST", "/webcall", { json: { calleeId: "a@b.org" } }), 404, "WEBCALL_NOT_FOUND");
  });
});

describe("WebCall listener: long poll", () => {
  beforeEach(() => start());
  afterEach(() => server.close());

  it("answers at once when events exist after since", async () => {
    node.emit(SID, hangup);
    const answer = await call("GET", `${eventsPath}?since=0`, { headers: auth });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ events: [hangup], next: 1 });
  });

  it("wakes on subscribe", async () => {
    const started = Date.now();
    const pending = call("GET", `${eventsPath}?since=0`, { headers: auth });
    await until(() => node.subscribers(SID) === 1);
    const answer = { id: "a1", type: "answer", answer: { type: "answer", sdp: "v=0" } } as const;
    node.emit(SID, answer);
    const result = await pending;
    expect(result.body).toEqual({ events: [answer], next: 1 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(node.subscribers(SID)).toBe(0);
  });

  it("times out empty, honouring a shorter client timeout", async () => {
    node.emit(SID, hangup);
    const started = Date.now();
    const answer = await call("GET", `${eventsPath}?since=1&timeout=200`, { headers: auth });
    expect(answer.body).toEqual({ events: [], next: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(node.subscribers(SID)).toBe(0);
  });

  it("caps the client's timeout at pollTimeoutMs", async () => {
    await server.close();
    await start(webcallConfig({ pollTimeoutMs: 300 }));
    const started = Date.now();
    const answer = await call("GET", `${eventsPath}?timeout=100000`, { headers: auth });
    expect(answer.body).toEqual({ events: [], next: 0 });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("answers 410 once the session is over and everything was delivered", async () => {
    node.emit(SID, hangup);
    node.end(SID);
    expect((await call("GET", `${eventsPath}?since=0`, { headers: auth })).body).toEqual({ events: [hangup], next: 1 });
    expectError(await call("GET", `${eventsPath}?since=1`, { headers: auth }), 410, "WEBCALL_SESSION_OVER");
  });

  it("answers 410 when the session ends while waiting", async () => {
    const pending = call("GET", `${eventsPath}?since=0`, { headers: auth });
    await until(() => node.subscribers(SID) === 1);
    node.end(SID);
    expectError(await pending, 410, "WEBCALL_SESSION_OVER");
  });

  it("unsubscribes when the client goes away, and close() ends waiting polls", async () => {
    const abort = new AbortController();
    const pending = fetch(`${base}${eventsPath}`, { headers: auth, signal: abort.signal }).catch(() => undefined);
    await until(() => node.subscribers(SID) === 1);
    abort.abort();
    await pending;
    await until(() => node.subscribers(SID) === 0);

    const waiting = call("GET", eventsPath, { headers: auth });
    await until(() => node.subscribers(SID) === 1);
    await server.close();
    const answer = await waiting.catch(() => undefined);
    if (answer) expect(answer.body).toEqual({ events: [], next: 0 });
    expect(node.subscribers(SID)).toBe(0);
    await start(); // for afterEach
  });
});

describe("WebCall listener: server-sent events", () => {
  beforeEach(() => start(webcallConfig(), { heartbeatMs: 100 }));
  afterEach(() => server.close());

  it("streams events with ids, heartbeats, resumes with Last-Event-ID and ends when over", async () => {
    const c1: SessionEvent = { id: "c1", type: "candidates", candidates: [{ candidate: "candidate:1", sdpMid: "0", sdpMLineIndex: 0 }] };
    const a1: SessionEvent = { id: "a1", type: "answer", answer: { type: "answer", sdp: "v=0" } };
    node.emit(SID, c1);

    const first = await openStream({ ...auth, accept: "text/event-stream" });
    expect(first.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(first.response.headers.get("cache-control")).toBe("no-store");
    expect(await first.next()).toEqual({ id: "1", data: c1 });
    node.emit(SID, a1);
    expect(await first.next()).toEqual({ id: "2", data: a1 });
    await first.heartbeat();
    first.abort();
    await until(() => node.subscribers(SID) === 0);

    node.emit(SID, hangup);
    node.end(SID);
    const second = await openStream({ ...auth, accept: "text/event-stream", "last-event-id": "2" });
    expect(await second.next()).toEqual({ id: "3", data: hangup });
    expect(await second.next()).toBeUndefined(); // the stream ended
    expect(node.subscribers(SID)).toBe(0);

    // nothing left and over: 410 instead of a stream
    expectError(await call("GET", `${eventsPath}?since=3`, { headers: { ...auth, accept: "text/event-stream" } }), 410, "WEBCALL_SESSION_OVER");
  });

  it("puts the cursor on the last event of a batch", async () => {
    const events: SessionEvent[] = [1, 2, 3].map((i) => ({ id: `h${i}`, type: "hangup", reason: "user_hangup" }));
    node.emit(SID, ...events);
    const stream = await openStream({ ...auth, accept: "text/event-stream" }, "?since=0");
    expect(await stream.next()).toEqual({ id: undefined, data: events[0] });
    expect(await stream.next()).toEqual({ id: undefined, data: events[1] });
    expect(await stream.next()).toEqual({ id: "3", data: events[2] });
    stream.abort();
  });

  it("ends the stream when the session ends without a new event", async () => {
    const stream = await openStream({ ...auth, accept: "text/event-stream, application/json" });
    await until(() => node.subscribers(SID) === 1);
    node.end(SID);
    expect(await stream.next()).toBeUndefined();
  });
});

/** Opens an SSE stream with fetch and parses its frames (`id:`, `data:`, `: comment`). */
async function openStream(headers: Record<string, string>, query = "") {
  const abort = new AbortController();
  const response = await fetch(`${base}${eventsPath}${query}`, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  type Frame = { comment: boolean; id: string | undefined; data: unknown };
  const frame = async (): Promise<Frame | undefined> => {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const result: Frame = { comment: false, id: undefined, data: undefined };
        for (const line of text.split("\n")) {
          if (line.startsWith(":")) result.comment = true;
          else if (line.startsWith("id: ")) result.id = line.slice(4);
          else if (line.startsWith("data: ")) result.data = JSON.parse(line.slice(6));
        }
        return result;
      }
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) return undefined;
      buffer += chunk.value;
    }
  };
  return {
    response,
    abort: () => abort.abort(),
    /** The next event (skipping comments and retry frames), or undefined at the end of the stream. */
    async next(): Promise<{ id: string | undefined; data: unknown } | undefined> {
      for (;;) {
        const f = await frame();
        if (!f) return undefined;
        if (f.data !== undefined) return { id: f.id, data: f.data };
      }
    },
    /** Waits for a heartbeat comment; fails if an event comes first. */
    async heartbeat(): Promise<void> {
      for (;;) {
        const f = await frame();
        if (!f) throw new Error("stream ended");
        if (f.data !== undefined) throw new Error("unexpected event");
        if (f.comment) return;
      }
    },
  };
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
