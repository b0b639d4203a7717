import winston from "winston";
import { AppserviceListener } from "../../src/matrix/AppserviceListener";
import { MatrixEvent } from "../../src/matrix/events/types";
import { setLogLevel } from "../../src/log";
import { Store } from "../../src/store/Store";
import { VIRTUAL, jsSdk, message, pushed, voip } from "./eventShapes";

const TOKEN = "hs-token-for-the-edge-test";

/** The handled-events part of the store, in memory. */
function memoryStore() {
  const ids: string[] = [];
  const store = {
    async markEventsHandled(eventIds: readonly string[]) {
      const fresh = eventIds.filter((id) => !ids.includes(id));
      ids.push(...fresh);
      return fresh;
    },
    async recentHandledEvents(limit: number) { return ids.slice(-limit).reverse(); },
    async pruneHandledEvents() { /* nothing to trim */ },
  };
  return { store: store as unknown as Store, ids };
}

/** The warnings the edge logged for refused events, as the log's one transport received them. */
function refusalLog(spy: jest.SpyInstance): Record<string, unknown>[] {
  return spy.mock.calls.map((args) => args[0] as Record<string, unknown>)
    .filter((entry) => entry.message === "ignoring an event that does not match its schema");
}

describe("the appservice listener checks every event before a handler sees it", () => {
  let listener: AppserviceListener;
  let port: number;
  let seen: MatrixEvent[];
  let ids: string[];
  let spy: jest.SpyInstance;

  beforeEach(async () => {
    setLogLevel("warn");
    spy = jest.spyOn(winston.transports.Console.prototype, "log").mockImplementation(((_info: unknown, done?: () => void) => { done?.(); }) as never);
    seen = [];
    const memory = memoryStore();
    ids = memory.ids;
    listener = new AppserviceListener({
      hsToken: TOKEN, bind: "127.0.0.1", port: 0, maxBodyBytes: 1_000_000,
      isOwnUser: (userId) => userId === VIRTUAL,
      isRelevant: () => true,
      atMostOnce: (e) => e.type === "m.room.message",
      onEvent: async (e) => { seen.push(e); },
      onUserQuery: async () => false,
      health: () => ({}),
    }, memory.store);
    port = await listener.listen();
  });
  afterEach(async () => {
    await listener.close();
    spy.mockRestore();
    setLogLevel("error");
  });

  const put = async (txnId: string, events: unknown[]) => {
    const res = await fetch(`http://127.0.0.1:${port}/_matrix/app/v1/transactions/${txnId}`, {
      method: "PUT", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
    });
    return { status: res.status, body: await res.json() };
  };

  it("a refused event is logged once with its id, type and reason, acknowledged, and not passed on; the events around it are", async () => {
    const before = jsSdk.hangup();
    const bad = pushed("m.call.answer", { ...voip, answer: { type: "answer", sdp: "a".repeat(70_000) } });
    const after = message();
    expect(await put("1", [before, bad, after])).toEqual({ status: 200, body: {} });
    expect(seen.map((e) => e.eventId)).toEqual([before.event_id, after.event_id]);
    expect(seen.map((e) => e.type)).toEqual(["m.call.hangup", "m.room.message"]);
    expect(refusalLog(spy)).toEqual([expect.objectContaining({
      level: "warn", txnId: "1", eventId: bad.event_id, type: "m.call.answer", roomId: bad.room_id,
      reason: "/content/answer/sdp must NOT have more than 61440 characters",
    })]);
    expect(ids).toContain(bad.event_id); // acknowledged like a handled event

    // The homeserver retries the transaction (e.g. after a crash): nothing runs twice, nothing is logged again.
    expect(await put("1", [before, bad, after])).toEqual({ status: 200, body: {} });
    expect(seen).toHaveLength(2);
    expect(refusalLog(spy)).toHaveLength(1);
  });

  it("a refused event in a transaction of its own is still acknowledged 200", async () => {
    const bad = pushed("m.call.hangup", { ...voip, call_id: "c".repeat(300) });
    expect(await put("2", [bad])).toEqual({ status: 200, body: {} });
    expect(seen).toEqual([]);
    expect(refusalLog(spy)[0]).toMatchObject({ eventId: bad.event_id, reason: expect.stringContaining("/content/call_id") });
  });

  it("the bridge's own echoes are passed over before they are parsed: not handled, not logged", async () => {
    const echo = { ...pushed("m.call.answer", { ...voip, answer: { type: "answer", sdp: "a".repeat(70_000) } }), sender: VIRTUAL };
    expect(await put("3", [echo, { ...jsSdk.invite(), sender: VIRTUAL }])).toEqual({ status: 200, body: {} });
    expect(seen).toEqual([]);
    expect(refusalLog(spy)).toEqual([]);
  });

  it("types it does not act on are passed over without a word", async () => {
    expect(await put("4", [pushed("m.room.message", { msgtype: "m.notice", body: "x" }), pushed("m.typing", {})])).toEqual({ status: 200, body: {} });
    expect(seen).toEqual([]);
    expect(refusalLog(spy)).toEqual([]);
  });

  it("an event whose envelope is not an event is logged and skipped, and the rest of the transaction runs", async () => {
    const good = jsSdk.reject();
    expect(await put("5", [{ type: "m.call.answer", event_id: 7 }, null, good])).toEqual({ status: 200, body: {} });
    expect(seen.map((e) => e.eventId)).toEqual([good.event_id]);
  });
});
