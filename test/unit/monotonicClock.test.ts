import { systemClock } from "../../src/util/monotonicClock";

describe("systemClock", () => {
  it("never wakes before the deadline", async () => {
    for (const wait of [1.3, 7.9, 15.5]) {
      const at = systemClock.now() + wait;
      await systemClock.sleepUntil(at);
      expect(systemClock.now()).toBeGreaterThanOrEqual(at);
    }
  });

  it("wakes at once for a deadline already past, and when aborted", async () => {
    const before = systemClock.now();
    await systemClock.sleepUntil(before - 5);
    const stop = new AbortController();
    const waiting = systemClock.sleepUntil(before + 60_000, stop.signal);
    stop.abort();
    await waiting;
    expect(systemClock.now() - before).toBeLessThan(1_000);
  });
});
