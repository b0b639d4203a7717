/** Wakes long-polling /sync requests: one set of waiters per user, woken when something for them is persisted. */

export class Notifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves on the next wake for `userId`, after `timeoutMs`, when `signal` aborts, or at close. */
  wait(userId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(userId);
      if (!set) this.waiters.set(userId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        set!.delete(done);
        if (set!.size === 0 && this.waiters.get(userId) === set) this.waiters.delete(userId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done);
      set.add(done);
    });
  }

  wake(userId: string): void {
    const set = this.waiters.get(userId);
    if (!set) return;
    for (const done of [...set]) done();
  }

  close(): void {
    this.closed = true;
    for (const set of [...this.waiters.values()]) for (const done of [...set]) done();
  }
}
