import { BridgeFixture } from "../e2e/fixture";
import { RawMatrixUser } from "../e2e/matrixUser";
import { OFFER } from "../e2e/sdp";
import { eventId, postJson, WebCallSession } from "../e2e/webcallClient";
import { catalogueOf } from "../../src/errors/catalogue";

/**
 * Every number a WebCall request brings, fed its boundary values against a
 * running bridge on real Synapse and its real store: each is either accepted
 * or refused with a 4xx and an errcode from the catalogue, never a 5xx. Where
 * a number reaches a column (pull positions → party_events.seq, an integer;
 * lifetime → lifetime_ms) or Synapse (sdpMLineIndex in m.call.candidates),
 * the accepted values go all the way there.
 */

const HUGE = `1${"0".repeat(309)}`; // 1e309 written out: Infinity once parsed
/** The values every field gets, besides its own edges. */
const COMMON = ["0", "-1", "2147483647", "2147483648", "9007199254740991", "9007199254740992", HUGE, "1e309", "1.5", "-0"];

type Outcome = "ok" | { status: number; errcode: string };
const BAD: Outcome = { status: 400, errcode: "WEBCALL_BAD_REQUEST" };

/** For a JSON number field of [min, max]: what the schema must decide. */
function jsonOutcome(raw: string, min: number, max: number): Outcome {
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? "ok" : BAD;
}

/** For a query or header field: only plain decimal digits (no sign, exponent, point or leading zero) in [min, max]. */
function textOutcome(raw: string, min: number, max: number): Outcome {
  return /^(0|[1-9][0-9]*)$/.test(raw) && Number(raw) >= min && Number(raw) <= max ? "ok" : BAD;
}

interface Answer { status: number; errcode?: string; text: string }

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let errcode: string | undefined;
  try { errcode = (JSON.parse(text) as { errcode?: string }).errcode; } catch { errcode = undefined; }
  return { status: res.status, errcode, text };
}

/** Fails with the field and value named, unless the answer is the expected one and no 5xx. */
function check(field: string, raw: string, expected: Outcome, got: Answer, okStatus = 200): void {
  const label = `${field}=${raw.length > 24 ? `${raw.slice(0, 12)}…(${raw.length} chars)` : raw}`;
  expect({ label, status: got.status < 500 ? "no 5xx" : `${got.status} ${got.text}` }).toEqual({ label, status: "no 5xx" });
  if (expected === "ok") {
    expect({ label, status: got.status }).toEqual({ label, status: okStatus });
  } else {
    expect({ label, status: got.status, errcode: got.errcode }).toEqual({ label, ...expected });
    expect(catalogueOf("webcall")).toHaveProperty([expected.errcode, "status"], expected.status);
  }
}

describe("numbers from the network, at their bounds", () => {
  let fx: BridgeFixture;
  let session: WebCallSession;
  let room: string;
  const caller = "alf@employer.com";

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    const alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    const res = await postJson(fx.webcallUrl, { callerId: caller, calleeId: "alice@example.org", offer: OFFER });
    session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    room = await alice.waitForInviteFrom("@webcall_alf=40employer.com:example.org");
    await alice.join(room);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
  });
  afterAll(async () => { await fx?.stop(); });

  const eventsUrl = () => `${fx.webcallUrl}/sessions/${session.sessionId}/events`;
  const auth = () => ({ authorization: `Bearer ${session.token}` });

  /** A setup with `field` set to the raw JSON number; a call it starts is hung up again. */
  async function setupWith(body: Record<string, unknown>, raw: string): Promise<Answer> {
    const text = JSON.stringify({ callerId: caller, calleeId: "alice@example.org", offer: OFFER, ...body }).replace("\"@N\"", raw);
    const res = await fetch(fx.webcallUrl, { method: "POST", headers: { "content-type": "application/json" }, body: text });
    const got = await answer(res);
    if (got.status === 200) {
      const setup = JSON.parse(got.text) as { status: string; sessionId?: string; token?: string };
      if (setup.sessionId && setup.token) await new WebCallSession(fx.webcallUrl, setup.sessionId, setup.token).hangup();
    }
    return got;
  }

  it("setup: lifetime (integer 1000-600000, stored as lifetime_ms)", async () => {
    for (const raw of [...COMMON, "999", "1000", "600000", "600001", "1000.5"]) {
      const got = await setupWith({ lifetime: "@N" }, raw);
      check("lifetime", raw, jsonOutcome(raw, 1000, 600_000), got);
      if (got.status === 200) expect(JSON.parse(got.text)).toMatchObject({ status: "success" });
    }
  });

  it("setup: a chain hop's ts (integer 0-2^53-1)", async () => {
    const hop = { by: "employer.com", from: caller, to: "alice@example.org", reason: "bounds", ts: "@N", key: "ed25519:a", sig: "AAAA" };
    for (const raw of COMMON) check("chain/0/ts", raw, jsonOutcome(raw, 0, Number.MAX_SAFE_INTEGER), await setupWith({ chain: [hop] }, raw));
  });

  it("setup: the WebCall-Signature header's ts is refused with 401, whatever its size", async () => {
    for (const raw of [...COMMON, "99999999999999999"]) {
      const res = await fetch(fx.webcallUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webcall-signature": `origin="employer.com",destination="127.0.0.1",key="ed25519:a",ts="${raw}",sig="AAAA"`,
        },
        body: JSON.stringify({ callerId: caller, calleeId: "alice@example.org", offer: OFFER }),
      });
      check("WebCall-Signature ts", raw, { status: 401, errcode: "WEBCALL_BAD_SIGNATURE" }, await answer(res));
    }
  });

  it("events: a candidate's sdpMLineIndex (integer 0-65535, sent on to Synapse)", async () => {
    for (const raw of [...COMMON, "65535", "65536", "0.5"]) {
      const id = eventId();
      const body = JSON.stringify({ events: [{ id, type: "candidates", candidates: [{ candidate: `candidate:${id} 1 udp 1 127.0.0.1 5000 typ host`, sdpMid: "0", sdpMLineIndex: "@N" }] }] })
        .replace("\"@N\"", raw);
      const res = await fetch(eventsUrl(), { method: "POST", headers: { "content-type": "application/json", ...auth() }, body });
      const expected = jsonOutcome(raw, 0, 65_535);
      check("sdpMLineIndex", raw, expected, await answer(res));
      if (expected === "ok") {
        const sent = await fx.waitForSent((e) => e.type === "m.call.candidates" && e.room_id === room
          && (e.content.candidates as { candidate: string }[]).some((c) => c.candidate.includes(id)));
        // (== : -0 arrives as 0)
        expect((sent.content.candidates as { sdpMLineIndex: number }[]).at(-1)?.sdpMLineIndex === Number(raw)).toBe(true);
      }
    }
  });

  const positions = [...COMMON, "01", "1e3", "", "2147483647 ", "+1"];

  it("pull position: ?since= on a long poll (integer 0-2^31-1, compared with party_events.seq)", async () => {
    for (const raw of positions.filter((r) => r !== "")) {
      const res = await fetch(`${eventsUrl()}?since=${encodeURIComponent(raw)}&timeout=0`, { headers: auth() });
      check("since", raw, textOutcome(raw, 0, 2_147_483_647), await answer(res));
    }
  });

  it("pull position: Last-Event-ID on a long poll and on an event stream", async () => {
    for (const sse of [false, true]) {
      for (const raw of positions) {
        const controller = new AbortController();
        const res = await fetch(`${eventsUrl()}?timeout=0`, {
          headers: { ...auth(), "last-event-id": raw, ...(sse ? { accept: "text/event-stream" } : {}) }, signal: controller.signal,
        });
        // HTTP trims a header's value; an empty Last-Event-ID is none (position 0). A stream that opened is not read to its end.
        const expected = raw === "" ? "ok" : textOutcome(raw.trim(), 0, 2_147_483_647);
        const got = sse && res.status === 200 ? { status: 200, text: "" } : await answer(res);
        if (sse && res.status === 200) expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
        controller.abort();
        check(`${sse ? "SSE" : "poll"} Last-Event-ID`, raw, expected, got);
      }
    }
  });

  it("pull wait: ?timeout= (integer 0-2^53-1 ms, cut to webcall.pollTimeoutMs)", async () => {
    for (const raw of [...COMMON, "30001"]) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 400);
      let got: Answer;
      try {
        // Past the last event, so an accepted wait waits: still waiting after 400 ms is accepted.
        got = await answer(await fetch(`${eventsUrl()}?since=2147483647&timeout=${encodeURIComponent(raw)}`, { headers: auth(), signal: controller.signal }));
      } catch (error) {
        if ((error as Error).name !== "AbortError") throw error;
        got = { status: 200, text: "(still waiting)" };
      } finally {
        clearTimeout(timer);
      }
      check("timeout", raw, textOutcome(raw, 0, Number.MAX_SAFE_INTEGER), got);
    }
  });

  it("the call survives all of it", async () => {
    expect((await fx.bridge.store.getSession(session.sessionId as never))?.state).toBe("ringing");
  });
});
