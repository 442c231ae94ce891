// The in-memory rate-limit store: compare-and-set over an opaque state value.

function same(a, b) {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Rate-limit state in process memory. `get(key)` and
 * `compareAndSet(key, expected, next, ttlSeconds)` are synchronous, so a
 * verification reads, decides and writes in one turn of the event loop: under
 * any number of concurrent async requests exactly the burst passes. States
 * expire `ttlSeconds` after their write (the bucket is full again by then);
 * beyond `maxEntries` the oldest entries are dropped.
 */
export class MemoryRateLimitStore {
  #entries = new Map();
  #max;

  constructor({ maxEntries = 100_000 } = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
  }

  /** The state stored under `key`, or `null`. */
  get(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    if (entry.expires <= Date.now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.state;
  }

  /** Stores `next` if the stored state is still `expected`; returns whether it did. */
  compareAndSet(key, expected, next, ttlSeconds) {
    if (!same(this.get(key), expected)) return false;
    this.#entries.delete(key);
    if (next != null) {
      this.#entries.set(key, { state: next, expires: Date.now() + Math.max(1, ttlSeconds) * 1000 });
      if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value);
    }
    return true;
  }

  delete(key) {
    this.#entries.delete(key);
  }

  clear() {
    this.#entries.clear();
  }

  get size() {
    return this.#entries.size;
  }
}
