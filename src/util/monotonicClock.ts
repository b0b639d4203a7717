/**
 * A monotonic clock and a way to wait on it, as one object: a deadline read
 * from one clock must be waited for on the same clock, or "not before" means
 * nothing. Injected, so tests can move time by hand. (Wall-clock time, which
 * rules and records use, is `deps.now()`; this one never jumps.)
 */
export interface MonotonicClock {
  /** Milliseconds from an arbitrary origin. */
  now(): number;
  /** Resolves once `now()` has reached `at`, or as soon as `signal` aborts
   *  (so a wait that lost a race does not keep a timer alive). */
  sleepUntil(at: number, signal?: AbortSignal): Promise<void>;
}

/** performance.now(), and timers that never wake before the deadline. */
export const systemClock: MonotonicClock = {
  now: () => performance.now(),
  sleepUntil(at, signal) {
    if (at <= performance.now() || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      // Timers count whole milliseconds from the event loop's cached time and
      // may fire a fraction early: check again and wait out the rest.
      const check = (): void => {
        const left = at - performance.now();
        if (left <= 0) done();
        else timer = setTimeout(check, Math.ceil(left));
      };
      signal?.addEventListener("abort", done, { once: true });
      check();
    });
  },
};
