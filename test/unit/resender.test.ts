import { Resender } from "../../src/calls/Resender";
import { MatrixRequestError } from "../../src/matrix/HomeserverClient";

const timing = { firstDelayMs: 5, maxDelayMs: 20, giveUpMs: 200 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A send that fails with `failures` in turn, then succeeds; counts its attempts. */
function flaky(failures: Error[]) {
  const state = { attempts: 0, done: false };
  const send = async () => {
    const err = failures[state.attempts++];
    if (err) throw err;
    state.done = true;
  };
  return { state, send };
}

describe("Resender", () => {
  it("retries a send that got no answer or a 5xx until it goes through, then stops", async () => {
    const r = new Resender(timing);
    const { state, send } = flaky([new Error("socket hang up"), new MatrixRequestError(502, "M_UNKNOWN", "bad gateway")]);
    r.retry("end.a", send);
    await sleep(150);
    expect(state).toEqual({ attempts: 3, done: true });
    r.close();
  });

  it("gives up at once on a refusal (4xx other than 429)", async () => {
    const r = new Resender(timing);
    const { state, send } = flaky([new MatrixRequestError(403, "M_FORBIDDEN", "not in room"), new Error("never reached")]);
    r.retry("end.b", send);
    await sleep(100);
    expect(state).toEqual({ attempts: 1, done: false });
    r.close();
  });

  it("gives up after giveUpMs, and one key is retried once however often it is asked", async () => {
    const r = new Resender(timing);
    const down = new Error("ECONNREFUSED");
    const { state, send } = flaky(Array.from({ length: 1000 }, () => down));
    r.retry("end.c", send);
    r.retry("end.c", send);
    await sleep(400);
    const attempts = state.attempts;
    expect(attempts).toBeGreaterThan(3);
    expect(attempts).toBeLessThan(20); // one loop of 5, 10, 20, 20 … ms within 200 ms, not two
    await sleep(100);
    expect(state.attempts).toBe(attempts);
    r.close();
  });

  it("close cancels what is pending", async () => {
    const r = new Resender(timing);
    const { state, send } = flaky([]);
    r.retry("end.d", send);
    r.close();
    await sleep(50);
    expect(state.attempts).toBe(0);
  });
});
