import { jsonContentTypeProblem } from "../../src/protocol/contentType";
import { AUTH, EVENTS_PATH, Listener } from "./listenerHarness";

/** JSON bodies are UTF-8: a charset other than utf-8 is 415 before the body is read. */

let l: Listener;
beforeAll(async () => { l = await Listener.start(); });
afterAll(() => l.stop());

const SETUP = JSON.stringify({ calleeId: "alice@example.org" });

it.each(["utf-16le", "UTF-16", "utf-16be", "latin1", "us-ascii", "\"utf-16le\"", "utf8"])(
  "charset=%s is 415 WEBCALL_BAD_CONTENT_TYPE, on setup and on event delivery", async (charset) => {
    const before = l.node.calls.length;
    // The body in the charset it claims, so a server that decoded it would accept it.
    const bare = charset.replace(/"/g, "").toLowerCase();
    const body = bare.startsWith("utf-16") ? Buffer.from(SETUP, "utf16le") : Buffer.from(SETUP, "latin1");
    for (const [path, headers] of [["/webcall", {}], [EVENTS_PATH, AUTH]] as const) {
      const res = await l.fetch(path, { method: "POST", headers: { "content-type": `application/json; charset=${charset}`, ...headers }, body });
      expect({ charset, path, status: res.status }).toEqual({ charset, path, status: 415 });
      const error = await res.json();
      expect(error.errcode).toBe("WEBCALL_BAD_CONTENT_TYPE");
      expect(error.error).toMatch(/charset must be utf-8/);
    }
    expect(l.node.calls.slice(before)).toEqual([]);
  });

it.each(["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON; charset=\"utf-8\"", "application/json; foo=bar"])(
  "%s is accepted", async (type) => {
    const res = await l.fetch("/webcall", { method: "POST", headers: { "content-type": type }, body: SETUP });
    expect(res.status).toBe(200);
  });

it("jsonContentTypeProblem: the media type first, then the charset", () => {
  expect(jsonContentTypeProblem(undefined)).toBe("Content-Type must be application/json");
  expect(jsonContentTypeProblem("application/jsonp")).toBe("Content-Type must be application/json");
  expect(jsonContentTypeProblem("text/plain; charset=utf-8")).toBe("Content-Type must be application/json");
  expect(jsonContentTypeProblem("application/json; charset=utf-8; charset=utf-16le")).toMatch(/not "utf-16le"/);
  expect(jsonContentTypeProblem("application/json ; charset=utf-8")).toBeUndefined();
});
