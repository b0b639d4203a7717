/**
 * Runs tasks one at a time per key, where one task may hold several keys: a
 * session whose legs ring several Matrix users runs under every pair's key,
 * so glare decisions in any of those pairs never interleave with it. A task
 * waits for the tasks queued before it on each of its keys; later tasks on
 * any of them wait for it. Tasks are ordered by when they were queued, so
 * no two can wait for each other.
 */
export class PairLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const before = keys.map((k) => this.tails.get(k)).filter((t): t is Promise<unknown> => t !== undefined);
    const previous = before.length === 0 ? Promise.resolve() : before.length === 1 ? before[0]! : Promise.all(before);
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    for (const k of keys) this.tails.set(k, tail);
    void tail.then(() => {
      for (const k of keys) if (this.tails.get(k) === tail) this.tails.delete(k);
    });
    return result;
  }

  /** Resolves once every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
}
