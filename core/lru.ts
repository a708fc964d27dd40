/**
 * A small bounded map that forgets the least recently used entry first.
 *
 * @module
 */

/** Bounded LRU map over a JS Map's insertion order. */
export class LruMap<K, V> {
  #map = new Map<K, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /**
   * The value for `key`, marking it most recently used once the map is more
   * than half full (below that nothing can be evicted, so the reordering,
   * a delete and a set on the hot path, is skipped).
   */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined || this.#map.size <= this.#capacity / 2) return value;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Stores `value`, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}
