import { IceCandidate } from "../protocol/types";

/** Cuts one window's candidates, in order, into the runs sent as one event each. */
export type SplitCandidates = (key: string, candidates: IceCandidate[]) => IceCandidate[][];

/**
 * Gathers ICE candidates for a short window and hands them on in batches,
 * instead of one event each (the Matrix spec asks senders to batch). The end
 * of candidates (`candidate: ""`) flushes at once. A window's candidates are
 * cut by `split` into runs that fit one event, and one key's runs are flushed
 * one after another, each once the one before it has settled: sent side by
 * side on a connection pool, a later run could overtake an earlier one.
 * `flush` reports its own failures (it must not reject); a failed run does
 * not hold back the next.
 */
export class CandidateBatcher {
  private readonly pending = new Map<string, { candidates: IceCandidate[]; timer: NodeJS.Timeout }>();
  /** Each key's last run in flight, which the next one waits for. */
  private readonly sending = new Map<string, Promise<void>>();

  constructor(private readonly windowMs: number, private readonly flush: (key: string, candidates: IceCandidate[]) => Promise<void>,
    private readonly split: SplitCandidates = (_key, candidates) => [candidates]) {}

  add(key: string, candidates: IceCandidate[]): void {
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { candidates: [], timer: setTimeout(() => this.flushNow(key), this.windowMs) };
      this.pending.set(key, batch);
    }
    batch.candidates.push(...candidates);
    if (this.windowMs === 0 || candidates.some((c) => c.candidate === "")) this.flushNow(key);
  }

  flushNow(key: string): void {
    const batch = this.pending.get(key);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.pending.delete(key);
    if (!batch.candidates.length) return;
    let tail = this.sending.get(key) ?? Promise.resolve();
    for (const run of this.split(key, batch.candidates)) tail = tail.then(() => this.flush(key, run));
    this.sending.set(key, tail);
    void tail.then(() => {
      if (this.sending.get(key) === tail) this.sending.delete(key);
    });
  }

  /** Forgets the key's gathered candidates; runs already flushed still go. */
  drop(key: string): void {
    const batch = this.pending.get(key);
    if (batch) clearTimeout(batch.timer);
    this.pending.delete(key);
  }

  close(): void {
    for (const key of [...this.pending.keys()]) this.drop(key);
  }
}
