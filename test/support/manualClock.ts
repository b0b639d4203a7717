import { MonotonicClock } from "../../src/util/monotonicClock";

/** A MonotonicClock that only moves when the test moves it. */
export class ManualClock implements MonotonicClock {
  private time: number;
  private readonly sleepers = new Set<{ at: number; wake: () => void }>();

  constructor(start = 1_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    if (at <= this.time || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { at, wake: () => { this.sleepers.delete(sleeper); resolve(); } };
      this.sleepers.add(sleeper);
      signal?.addEventListener("abort", sleeper.wake, { once: true });
    });
  }

  /** The deadlines being waited for, soonest first. */
  waiting(): number[] {
    return [...this.sleepers].map((s) => s.at).sort((a, b) => a - b);
  }

  /** Moves time on to `to`, waking every wait that is then due. */
  advanceTo(to: number): void {
    if (to < this.time) throw new Error(`a monotonic clock cannot go back from ${this.time} to ${to}`);
    this.time = to;
    for (const sleeper of [...this.sleepers]) if (sleeper.at <= to) sleeper.wake();
  }

  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }
}
