import { logger } from "../log";
import { MatrixRequestError } from "../matrix/HomeserverClient";

const log = logger("calls");

export interface ResendTiming {
  firstDelayMs: number;
  maxDelayMs: number;
  /** After this long from the first failure, the send is given up. */
  giveUpMs: number;
}

const DEFAULT_TIMING: ResendTiming = { firstDelayMs: 250, maxDelayMs: 5000, giveUpMs: 10 * 60_000 };

/**
 * Sends again, in the background, a call's ending (m.call.hangup or
 * m.call.reject) when the homeserver could not take it. Without this, a
 * caller who hangs up while the homeserver is unreachable leaves the callee's
 * devices ringing until the invite's lifetime, and the room never shows the
 * call ended: the call is already `ended` in the store, so nothing else would
 * send it. `send` must reuse one txn id, so an attempt the homeserver
 * persisted but whose answer was lost is not doubled. Only failures that may
 * pass are retried (no answer, 5xx, 429); a refusal is final. Pending resends
 * do not survive a restart.
 */
export class Resender {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly timing: ResendTiming = DEFAULT_TIMING) {}

  /** Retries `send` until it succeeds, is refused, or `giveUpMs` passes. */
  retry(key: string, send: () => Promise<unknown>): void {
    if (this.timers.has(key)) return;
    const giveUpAt = Date.now() + this.timing.giveUpMs;
    const attempt = (delay: number): void => {
      const timer = setTimeout(() => {
        send().then(() => {
          this.timers.delete(key);
          log.info("resent a call's ending", { key });
        }, (err: Error) => {
          const next = Math.min(delay * 2, this.timing.maxDelayMs);
          if (!mayPass(err) || Date.now() + next > giveUpAt) {
            this.timers.delete(key);
            log.warn("gave up resending a call's ending", { key, error: err.message });
            return;
          }
          attempt(next);
        });
      }, delay);
      timer.unref();
      this.timers.set(key, timer);
    };
    attempt(this.timing.firstDelayMs);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/** No answer (connection refused or dropped, timeout), a server error or a rate limit. */
function mayPass(err: Error): boolean {
  return !(err instanceof MatrixRequestError) || err.status >= 500 || err.status === 429;
}
