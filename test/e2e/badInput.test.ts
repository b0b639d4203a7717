import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER } from "./sdp";

const GOOD = { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER };
const ERROR_KEYS = ["errcode", "error"];

interface Case { name: string; method?: string; path: string; headers?: Record<string, string | undefined>; body?: string; status: number; errcode: string }

/**
 * Every listener of the real bridge, fed bad input: each request gets its
 * documented status and errcode with a plain {errcode, error} body, nothing
 * is stored or sent to Matrix, and the bridge keeps serving.
 */
describe("bad input to a running bridge", () => {
  let fx: BridgeFixture;
  let session: WebCallSession;
  let room: string;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    const alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    const res = await postJson(fx.webcallUrl, GOOD);
    session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    room = await alice.waitForInviteFrom("@webcall_alf=40employer.com:example.org");
    await alice.join(room);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
  });
  afterAll(async () => { await fx.stop(); });

  const json = (v: unknown) => JSON.stringify(v);
  const events = () => `/sessions/${session.sessionId}/events`;
  const bearer = () => ({ authorization: `Bearer ${session.token}` });

  const webcallCases: () => Case[] = () => [
    { name: "setup: malformed JSON", path: "", body: "{\"calleeId\":", status: 400, errcode: "WEBCALL_BAD_JSON" },
    { name: "setup: not an object", path: "", body: "[1,2]", status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: wrong content type", path: "", headers: { "content-type": "text/plain" }, body: json(GOOD), status: 415, errcode: "WEBCALL_BAD_CONTENT_TYPE" },
    { name: "setup: calleeId missing", path: "", body: json({ offer: OFFER }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: calleeId a number", path: "", body: json({ ...GOOD, calleeId: 42 }), status: 400, errcode: "WEBCALL_BAD_ADDRESS" },
    { name: "setup: bad callee address", path: "", body: json({ ...GOOD, calleeId: "alice at example.org" }), status: 400, errcode: "WEBCALL_BAD_ADDRESS" },
    { name: "setup: bad caller address", path: "", body: json({ ...GOOD, callerId: "alf@@employer.com" }), status: 400, errcode: "WEBCALL_BAD_ADDRESS" },
    { name: "setup: lifetime a string", path: "", body: json({ ...GOOD, lifetime: "90s" }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: offer of the wrong type", path: "", body: json({ ...GOOD, offer: { type: "answer", sdp: "x" } }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: short sessionId", path: "", body: json({ ...GOOD, sessionId: "short" }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: unknown field", path: "", body: json({ ...GOOD, admin: true }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: oversized body", path: "", body: json({ ...GOOD, offer: { type: "offer", sdp: "a".repeat(70_000) } }), status: 413, errcode: "WEBCALL_TOO_LARGE" },
    { name: "setup: no offer", path: "", body: json({ calleeId: "alice@example.org" }), status: 422, errcode: "WEBCALL_NEED_SESSION" },
    { name: "events: no token", path: events(), body: json({ events: [{ id: "x1", type: "hangup", reason: "user_hangup" }] }), status: 401, errcode: "WEBCALL_MISSING_TOKEN" },
    { name: "events: wrong token", path: events(), headers: { authorization: "Bearer wrongtokenwrongtokenwrongtoken" }, body: json({ events: [{ id: "x2", type: "hangup", reason: "user_hangup" }] }), status: 401, errcode: "WEBCALL_BAD_TOKEN" },
    { name: "events: unknown session", path: "/sessions/unknown-session-0123456789/events", headers: bearer(), body: json({ events: [{ id: "x3", type: "hangup", reason: "user_hangup" }] }), status: 404, errcode: "WEBCALL_UNKNOWN_SESSION" },
    { name: "events: bad session id", path: "/sessions/x!y/events", headers: bearer(), body: json({ events: [{ id: "x4", type: "hangup", reason: "user_hangup" }] }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "events: unknown type", path: events(), headers: bearer(), body: json({ events: [{ id: "x5", type: "explode" }] }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "events: bad hangup reason", path: events(), headers: bearer(), body: json({ events: [{ id: "x6", type: "hangup", reason: "because" }] }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "events: empty list", path: events(), headers: bearer(), body: json({ events: [] }), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "events: the caller answers its own call", path: events(), headers: bearer(), body: json({ events: [{ id: "x7", type: "answer", answer: { type: "answer", sdp: "v=0" } }] }), status: 400, errcode: "WEBCALL_BAD_EVENT" },
    { name: "events: replace from the caller", path: events(), headers: bearer(), body: json({ events: [{ id: "x8", type: "replace", sessionId: "another-session-0123456", offer: OFFER }] }), status: 400, errcode: "WEBCALL_BAD_EVENT" },
    { name: "poll: wrong token", method: "GET", path: `${events()}?since=0`, headers: { authorization: "Bearer wrongtokenwrongtokenwrongtoken" }, status: 401, errcode: "WEBCALL_BAD_TOKEN" },
    { name: "poll: bad cursor", method: "GET", path: `${events()}?since=-1`, headers: bearer(), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    // Pull positions are party_events.seq, an integer column: past 2^31-1 was a 500 from the store.
    { name: "poll: since past 2^31-1", method: "GET", path: `${events()}?since=2147483648`, headers: bearer(), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "poll: since 2^53", method: "GET", path: `${events()}?since=9007199254740992`, headers: bearer(), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "poll: Last-Event-ID past 2^31-1", method: "GET", path: events(), headers: { ...bearer(), "last-event-id": "2147483648" }, status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "sse: Last-Event-ID past 2^31-1", method: "GET", path: events(), headers: { ...bearer(), accept: "text/event-stream", "last-event-id": "2147483648" }, status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "poll: fractional timeout", method: "GET", path: `${events()}?since=0&timeout=1.5`, headers: bearer(), status: 400, errcode: "WEBCALL_BAD_REQUEST" },
    { name: "setup: utf-16le body", path: "", headers: { "content-type": "application/json; charset=utf-16le" }, body: json(GOOD), status: 415, errcode: "WEBCALL_BAD_CONTENT_TYPE" },
    { name: "unknown route", method: "GET", path: "/nothing-here", status: 404, errcode: "WEBCALL_NOT_FOUND" },
  ];

  it("the WebCall listener answers each with its status and errcode, and stores and sends nothing", async () => {
    for (const c of webcallCases()) {
      const before = { calls: (await fx.bridge.store.liveCalls()).length, sent: fx.sent.length };
      const res = await fetch(`${fx.webcallUrl}${c.path}`, {
        method: c.method ?? "POST", headers: { "content-type": "application/json", ...c.headers } as Record<string, string>, body: c.body,
      });
      const body = await res.json();
      expect({ name: c.name, status: res.status, errcode: body.errcode }).toEqual({ name: c.name, status: c.status, errcode: c.errcode });
      expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
      expect(body.error).not.toMatch(/\n\s+at /);
      await new Promise((r) => setTimeout(r, 30));
      expect({ name: c.name, calls: (await fx.bridge.store.liveCalls()).length, sent: fx.sent.length }).toEqual({ name: c.name, ...before });
    }
    // Still serving, and the ringing call is untouched.
    const ok = await postJson(fx.webcallUrl, { calleeId: "nobody@example.org", offer: OFFER });
    expect(ok.body).toEqual({ status: "could_not_attend" });
    expect((await fx.bridge.store.getCall(session.sessionId as never))?.state).toBe("ringing");
  });

  it("a replayed session event is applied once", async () => {
    const event = { id: "replayed-candidates-1", type: "candidates", candidates: [{ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 }, { candidate: "" }] };
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${fx.webcallUrl}${events()}`, { events: [event] }, bearer());
      expect(res.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(fx.sentIn(room, "m.call.candidates").filter((e) => e.content.call_id === session.sessionId)).toHaveLength(1);
  });

  it("the appservice listener refuses missing and wrong homeserver tokens and bad JSON, and processes nothing", async () => {
    const url = `http://127.0.0.1:${fx.bridge.appservicePort}`;
    const hangup = json({ events: [{ type: "m.call.hangup", event_id: "$bad", room_id: room, sender: "@alice:example.org", content: { call_id: session.sessionId, party_id: "X", version: "1" } }] });
    const cases = [
      { path: "/_matrix/app/v1/transactions/t1", headers: {}, body: hangup, status: 401, errcode: "M_UNAUTHORIZED" },
      { path: "/_matrix/app/v1/transactions/t2", headers: { authorization: "Bearer wrong" }, body: hangup, status: 403, errcode: "M_FORBIDDEN" },
      { path: "/_matrix/app/v1/transactions/t3?access_token=wrong", headers: {}, body: hangup, status: 403, errcode: "M_FORBIDDEN" },
      { path: "/_matrix/app/v1/transactions/t4", headers: { authorization: `Bearer ${fx.registration.hs_token}` }, body: "{not json", status: 400, errcode: "M_NOT_JSON" },
    ];
    for (const c of cases) {
      const res = await fetch(`${url}${c.path}`, { method: "PUT", headers: { "content-type": "application/json", ...c.headers } as Record<string, string>, body: c.body });
      expect(res.status).toBe(c.status);
      expect((await res.json()).errcode).toBe(c.errcode);
    }
    expect((await fx.bridge.store.getCall(session.sessionId as never))?.state).toBe("ringing");
    const ping = await fetch(`${url}/_matrix/app/v1/ping?access_token=${fx.registration.hs_token}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(ping.status).toBe(200);
  });
});
