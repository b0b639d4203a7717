/**
 * Remembers every accepted request signature for as long as its timestamp
 * could still pass the skew check, so a captured request cannot be sent
 * again. Entries are kept in arrival order and expire in that order. The
 * memory is bounded: when it is full of signatures that are all still live,
 * new signed requests are turned away (the caller may retry) rather than
 * forgetting one that could then be replayed.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity: number, private readonly windowMs: number) {}

  /** "fresh" (now remembered), "replay", or "full". `now` must not go backwards. */
  check(origin: string, sig: string, now: number): "fresh" | "replay" | "full" {
    for (const [key, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(key);
    }
    const key = `${origin} ${sig}`;
    if (this.seen.has(key)) return "replay";
    if (this.seen.size >= this.capacity) return "full";
    this.seen.set(key, now + this.windowMs);
    return "fresh";
  }

  get size(): number {
    return this.seen.size;
  }
}
