import { LAST_HOP_MS, systemClock } from "../../src/util/monotonicClock";

describe("systemClock", () => {
  it("never wakes before the deadline", async () => {
    for (const wait of [1.3, 7.9, 15.5]) {
      const at = systemClock.now() + wait;
      await systemClock.sleepUntil(at);
      expect(systemClock.now()).toBeGreaterThanOrEqual(at);
    }
  });

  it("ends a wait on a turn of the event loop, not on a timer, whatever ran before the wait began", async () => {
    const realSetTimeout = global.setTimeout;
    let timerFiredAt: number | undefined;
    const timeout = jest.spyOn(global, "setTimeout").mockImplementation(((fn: () => void, ms?: number) =>
      realSetTimeout(() => { timerFiredAt = systemClock.now(); fn(); }, ms)) as unknown as typeof setTimeout);
    const turn = jest.spyOn(global, "setImmediate");
    try {
      const at = systemClock.now() + 30;
      await systemClock.sleepUntil(at);
      expect(timeout.mock.calls[0]![1]).toBeLessThanOrEqual(30 - LAST_HOP_MS);
      // On a loaded machine the early timer itself may fire past the deadline: then no turn is left to wait.
      if (timerFiredAt! < at) expect(turn).toHaveBeenCalled();
    } finally {
      timeout.mockRestore();
      turn.mockRestore();
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
