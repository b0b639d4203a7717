import { IceCandidate } from "../webcall/protocol";

/**
 * Gathers ICE candidates for a short window and hands them on as one batch,
 * instead of one event each (the Matrix spec asks senders to batch). The end
 * of candidates (`candidate: ""`) flushes at once.
 */
export class CandidateBatcher {
  private readonly pending = new Map<string, { candidates: IceCandidate[]; timer: NodeJS.Timeout }>();

  constructor(private readonly windowMs: number, private readonly flush: (key: string, candidates: IceCandidate[]) => void) {}

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
    if (batch.candidates.length) this.flush(key, batch.candidates);
  }

  drop(key: string): void {
    const batch = this.pending.get(key);
    if (batch) clearTimeout(batch.timer);
    this.pending.delete(key);
  }

  close(): void {
    for (const key of [...this.pending.keys()]) this.drop(key);
  }
}
