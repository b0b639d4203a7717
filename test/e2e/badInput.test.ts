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
      const before = { calls: (await fx.bridge.store.liveSessions()).length, sent: fx.sent.length };
      const res = await fetch(`${fx.webcallUrl}${c.path}`, {
        method: c.method ?? "POST", headers: { "content-type": "application/json", ...c.headers } as Record<string, string>, body: c.body,
      });
      const body = await res.json();
      expect({ name: c.name, status: res.status, errcode: body.errcode }).toEqual({ name: c.name, status: c.status, errcode: c.errcode });
      expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
      expect(body.error).not.toMatch(/\n\s+at /);
      await new Promise((r) => setTimeout(r, 30));
      expect({ name: c.name, calls: (await fx.bridge.store.liveSessions()).length, sent: fx.sent.length }).toEqual({ name: c.name, ...before });
    }
    // Still serving, and the ringing call is untouched.
    const ok = await postJson(fx.webcallUrl, { calleeId: "nobody@example.org", offer: OFFER });
    expect(ok.body).toEqual({ status: "could_not_attend" });
    expect((await fx.bridge.store.getSession(session.sessionId as never))?.state).toBe("ringing");
  });

  it("a replayed session event is applied once", async () => {
    const event = { id: "replayed-candidates-1", type: "candidates", candidates: [{ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 }, { candidate: "" }] };
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${fx.webcallUrl}${events()}`, { events: [event] }, bearer());
      expect(res.status).toBe(200);
    }
    // The first copy reaches Synapse's push after the candidate batch (a fixed 200 ms was too short under load);
    // a second would follow it within the next batch.
    await fx.waitForSent((e) => e.room_id === room && e.type === "m.call.candidates" && e.content.call_id === session.sessionId);
    await new Promise((r) => setTimeout(r, 500));
    expect(fx.sentIn(room, "m.call.candidates").filter((e) => e.content.call_id === session.sessionId)).toHaveLength(1);
  });

  // ---- the appservice listener (the homeserver's door) ------------------------------------------

  describe("the appservice listener", () => {
    interface AsCase { name: string; method?: string; path?: string; headers?: Record<string, string | undefined>; body?: string; status: number; errcode?: string }
    const asUrl = () => `http://127.0.0.1:${fx.bridge.appservicePort}`;
    const token = () => fx.registration.hs_token;
    const auth = () => ({ authorization: `Bearer ${token()}` });
    // A hangup of the ringing call: if any refused request were processed, the call would end.
    const hangup = () => json({ events: [{ type: "m.call.hangup", event_id: "$bad-input-hangup", room_id: room, sender: "@alice:example.org", content: { call_id: session.sessionId, party_id: "X", version: "1" } }] });
    const huge = () => `{"events":[],"pad":"${"a".repeat(fx.config.appservice.maxBodyBytes)}"}`;
    const nothing = json({ events: [] });

    const asCases: () => AsCase[] = () => [
      { name: "no token", body: hangup(), status: 401, errcode: "M_UNAUTHORIZED" },
      { name: "no token, malformed JSON (the token is checked first)", body: "{not json", status: 401, errcode: "M_UNAUTHORIZED" },
      { name: "no token, oversized body (nothing is read)", body: huge(), status: 401, errcode: "M_UNAUTHORIZED" },
      { name: "no token, gzip body", headers: { "content-encoding": "gzip" }, body: "\x1f\x8b", status: 401, errcode: "M_UNAUTHORIZED" },
      { name: "another scheme", headers: { authorization: `Basic ${token()}` }, body: hangup(), status: 401, errcode: "M_UNAUTHORIZED" },
      { name: "wrong token", headers: { authorization: "Bearer wrong" }, body: hangup(), status: 403, errcode: "M_FORBIDDEN" },
      { name: "wrong token, malformed JSON", headers: { authorization: "Bearer wrong" }, body: "{not json", status: 403, errcode: "M_FORBIDDEN" },
      { name: "wrong ?access_token=", path: "/_matrix/app/v1/transactions/t?access_token=wrong", body: hangup(), status: 403, errcode: "M_FORBIDDEN" },
      { name: "malformed JSON", headers: auth(), body: "{not json", status: 400, errcode: "M_NOT_JSON" },
      { name: "oversized body", headers: auth(), body: huge(), status: 413, errcode: "M_TOO_LARGE" },
      { name: "no events list", headers: auth(), body: json({ ephemeral: [] }), status: 400, errcode: "M_BAD_JSON" },
      { name: "events not a list", headers: auth(), body: json({ events: { 0: {} } }), status: 400, errcode: "M_BAD_JSON" },
      { name: "a JSON array", headers: auth(), body: "[]", status: 400, errcode: "M_BAD_JSON" },
      { name: "empty body", headers: auth(), body: "", status: 400, errcode: "M_BAD_JSON" },
      { name: "text/plain", headers: { ...auth(), "content-type": "text/plain" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "form data", headers: { ...auth(), "content-type": "application/x-www-form-urlencoded" }, body: "events=1", status: 415, errcode: "M_NOT_JSON" },
      { name: "charset=utf-16le", headers: { ...auth(), "content-type": "application/json; charset=utf-16le" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "charset=utf-16", headers: { ...auth(), "content-type": "application/json; charset=utf-16" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "charset=iso-8859-1", headers: { ...auth(), "content-type": "application/json; charset=iso-8859-1" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "an unknown charset", headers: { ...auth(), "content-type": "application/json; charset=klingon" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "Content-Encoding: gzip (refused, not inflated)", headers: { ...auth(), "content-encoding": "gzip" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "an unknown Content-Encoding", headers: { ...auth(), "content-encoding": "x-klingon" }, body: hangup(), status: 415, errcode: "M_NOT_JSON" },
      { name: "ping in text/plain", path: "/_matrix/app/v1/ping", method: "POST", headers: { ...auth(), "content-type": "text/plain" }, body: "{}", status: 415, errcode: "M_NOT_JSON" },
      { name: "a user id that does not decode", method: "GET", path: "/_matrix/app/v1/users/%E0%A4%A", headers: auth(), status: 400, errcode: "M_INVALID_PARAM" },
      { name: "unknown route", method: "GET", path: "/_matrix/app/v1/nothing", headers: auth(), status: 404, errcode: "M_UNRECOGNIZED" },
      // Accepted: the scheme in any case (RFC 7235), the legacy query token, an explicit utf-8 charset.
      { name: "lower-case bearer", headers: { authorization: `bearer ${token()}` }, body: nothing, status: 200 },
      { name: "upper-case BEARER", headers: { authorization: `BEARER ${token()}` }, body: nothing, status: 200 },
      { name: "?access_token=", path: `/_matrix/app/v1/transactions/t?access_token=${token()}`, body: nothing, status: 200 },
      { name: "charset=UTF-8", headers: { ...auth(), "content-type": "application/json; charset=UTF-8" }, body: nothing, status: 200 },
      { name: "Content-Encoding: identity", headers: { ...auth(), "content-encoding": "identity" }, body: nothing, status: 200 },
    ];

    it("answers each bad request 4xx with a Matrix {errcode, error}, processes nothing, and keeps serving", async () => {
      let n = 0;
      for (const c of asCases()) {
        const res = await fetch(`${asUrl()}${c.path ?? `/_matrix/app/v1/transactions/bad-input-${++n}`}`, {
          method: c.method ?? "PUT", headers: { "content-type": "application/json", ...c.headers } as Record<string, string>, body: c.body,
        });
        const body = await res.json();
        if (c.status === 200) {
          expect({ name: c.name, status: res.status, body }).toEqual({ name: c.name, status: 200, body: {} });
          continue;
        }
        expect({ name: c.name, status: res.status, errcode: body.errcode }).toEqual({ name: c.name, status: c.status, errcode: c.errcode });
        expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
        expect(typeof body.error).toBe("string");
        expect(body.error).not.toMatch(/\n\s+at /);
      }
      // Nothing was processed: the call still rings. And the listener still serves.
      expect((await fx.bridge.store.getSession(session.sessionId as never))?.state).toBe("ringing");
      const ping = await fetch(`${asUrl()}/_matrix/app/v1/ping?access_token=${token()}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(ping.status).toBe(200);
    });

    it("ten oversized bodies at once without a token are refused without being read", async () => {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${asUrl()}/_matrix/app/v1/transactions/huge-${i}`, {
        method: "PUT", headers: { "content-type": "application/json" }, body: huge(),
      }).then(async (res) => ({ status: res.status, errcode: (await res.json()).errcode }))));
      expect(answers).toEqual(Array.from({ length: 10 }, () => ({ status: 401, errcode: "M_UNAUTHORIZED" })));
      expect(Date.now() - started).toBeLessThan(10_000);
      const health = await fetch(`${asUrl()}/health`);
      expect(health.status).toBe(200);
    });
  });
});
