import { AppserviceListener, PushedEvent } from "../../src/matrix/AppserviceListener";
import { MatrixEvent } from "../../src/matrix/events/types";
import { MatrixRequestError } from "../../src/matrix/HomeserverClient";
import { Store } from "../../src/store/Store";
import { setLogLevel } from "../../src/log";

// The listener logs each failure; the assertions say what matters.
beforeAll(() => setLogLevel("error"));

const TOKEN = "hs-token-for-the-unit-test";

/** The three handled-events methods the listener uses, in memory; `down` makes them fail as an unreachable database does. */
function memoryStore() {
  const ids: string[] = [];
  const state = { down: false };
  const fail = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  const store = {
    async markEventsHandled(eventIds: readonly string[]) {
      if (state.down) throw fail();
      const fresh = eventIds.filter((id) => !ids.includes(id));
      ids.push(...fresh);
      return fresh;
    },
    async recentHandledEvents(limit: number) { return ids.slice(-limit).reverse(); },
    async pruneHandledEvents() { /* nothing to trim in a test */ },
  };
  return { store: store as unknown as Store, ids, state };
}

function event(id: string, body = id): PushedEvent {
  return { type: "m.room.message", event_id: id, room_id: "!r:example.org", sender: "@alice:example.org", content: { msgtype: "m.text", body } };
}

/** A listener whose handler does what each event's body says: "ok", "passing" (fails once with a 502), "lasting" (403 every time), "bug". */
async function start(atMostOnce: (e: MatrixEvent) => boolean = () => false) {
  const { store, ids, state } = memoryStore();
  const runs: string[] = [];
  const failedOnce = new Set<string>();
  const listener = new AppserviceListener({
    hsToken: TOKEN, bind: "127.0.0.1", port: 0, maxBodyBytes: 1_000_000,
    isOwnUser: () => false,
    isRelevant: () => true,
    atMostOnce,
    onEvent: async (e) => {
      runs.push(e.eventId);
      const kind = e.type === "m.room.message" ? e.body : "";
      if (kind === "passing" && !failedOnce.has(e.eventId)) {
        failedOnce.add(e.eventId);
        throw new MatrixRequestError(502, "M_UNKNOWN", "PUT /send: bad gateway");
      }
      if (kind === "lasting") throw new MatrixRequestError(403, "M_FORBIDDEN", "POST /join: You are not invited to this room");
      if (kind === "bug") throw new TypeError("cannot read properties of undefined");
    },
    onUserQuery: async () => false,
    health: () => ({}),
  }, store);
  const port = await listener.listen();
  const put = async (txnId: string, events: PushedEvent[]) => {
    const res = await fetch(`http://127.0.0.1:${port}/_matrix/app/v1/transactions/${txnId}`, {
      method: "PUT", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
    });
    return { status: res.status, body: await res.json() };
  };
  return { listener, put, runs, ids, state };
}

describe("a pushed transaction's events, each on its own", () => {
  it("a failure that may pass fails the transaction (500); its retry does not run again the events that succeeded before", async () => {
    const t = await start();
    const txn = [event("$a", "ok"), event("$b", "passing"), event("$c", "ok")];
    expect(await t.put("1", txn)).toEqual({ status: 500, body: { errcode: "M_UNKNOWN", error: expect.any(String) } });
    expect(t.runs).toEqual(["$a", "$b"]);
    expect(t.ids).toEqual(["$a"]); // recorded as soon as it succeeded, not at the end
    expect(await t.put("1", txn)).toEqual({ status: 200, body: {} });
    expect(t.runs).toEqual(["$a", "$b", "$b", "$c"]);
    expect(await t.put("1", txn)).toEqual({ status: 200, body: {} });
    expect(t.runs).toHaveLength(4);
    await t.listener.close();
  });

  it("a failure that will not pass is acknowledged: the events behind it run, and a retry runs nothing", async () => {
    const t = await start();
    const txn = [event("$good1", "ok"), event("$poison", "lasting"), event("$bug", "bug"), event("$good2", "ok")];
    expect(await t.put("7", txn)).toEqual({ status: 200, body: {} });
    expect(t.runs).toEqual(["$good1", "$poison", "$bug", "$good2"]);
    expect(t.ids).toEqual(["$good1", "$poison", "$bug", "$good2"]);
    expect(await t.put("7", txn)).toEqual({ status: 200, body: {} });
    expect(t.runs).toHaveLength(4);
    await t.listener.close();
  });

  it("the store unreachable fails the transaction, and the retry after it came back runs each event once", async () => {
    const t = await start();
    t.state.down = true;
    const txn = [event("$x", "ok"), event("$y", "ok")];
    expect((await t.put("2", txn)).status).toBe(500);
    expect(t.runs).toEqual(["$x"]);
    t.state.down = false;
    expect((await t.put("2", txn)).status).toBe(200);
    // $x was remembered in memory before the store write failed: it is not run twice.
    expect(t.runs).toEqual(["$x", "$y"]);
    await t.listener.close();
  });

  it("an at-most-once event (a bot command) that fails is not run again, even for a failure that may pass", async () => {
    const t = await start((e) => e.eventId.startsWith("$cmd"));
    const txn = [event("$cmd1", "passing"), event("$cmd2", "ok")];
    expect(await t.put("3", txn)).toEqual({ status: 200, body: {} });
    expect(await t.put("3", txn)).toEqual({ status: 200, body: {} });
    expect(t.runs).toEqual(["$cmd1", "$cmd2"]);
    await t.listener.close();
  });
});
