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

/** How early a wait's timer wakes; the rest is waited out turn by turn of the event loop. */
export const LAST_HOP_MS = 2;

/** performance.now(), and timers that never wake before the deadline. */
export const systemClock: MonotonicClock = {
  now: () => performance.now(),
  sleepUntil(at, signal) {
    if (at <= performance.now() || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let turn: NodeJS.Immediate | undefined;
      const done = (): void => {
        clearTimeout(timer);
        clearImmediate(turn);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      // A timer fires on the event loop's whole-millisecond clock, at a point
      // within the millisecond set by when the loop last went idle: for a
      // refusal, its own handling; for an unknown callee, the lookup's answer.
      // So a wait ended by a timer would end a fraction of a millisecond
      // earlier or later depending on what came before it. The timer wakes
      // early instead, and the wait ends on the first turn of the loop past
      // the deadline (setImmediate), whatever ran before.
      const check = (): void => {
        if (at <= performance.now()) done();
        else turn = setImmediate(check);
      };
      signal?.addEventListener("abort", done, { once: true });
      const timer = setTimeout(check, Math.max(0, Math.floor(at - performance.now()) - LAST_HOP_MS));
    });
  },
};
