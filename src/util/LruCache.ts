/**
 * A bounded map that forgets the least recently used key first. A Map keeps
 * insertion order, so moving a key to the end on every read makes its first
 * key the least recently used one.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer (got ${capacity})`);
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  /** Returns the value it forgot to make room, if any. */
  set(key: K, value: V): V | undefined {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size <= this.capacity) return undefined;
    const [oldestKey, oldest] = this.map.entries().next().value!;
    this.map.delete(oldestKey);
    return oldest;
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
