// Counts per key (a source address, a principal) in fixed windows shared by every key, with a bounded map:
// one Map lookup per request, and the whole map is dropped when the window turns, so no per-key timer and
// no sweep. A key that arrives when the map is full shares one overflow counter: a flood of new keys (many
// addresses, many JWT subjects) is limited as one caller instead of growing memory or going unlimited.

/** The key every caller beyond `maxKeys` is counted under. */
export const OVERFLOW_KEY = '\u0000overflow';

export interface FixedWindowLimiterOptions {
  windowMs: number;
  /** Distinct keys held per window; see OVERFLOW_KEY for the rest. */
  maxKeys: number;
  now?: () => number;
}

export class FixedWindowLimiter {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #counts = new Map<string, number>();

  constructor(options: FixedWindowLimiterOptions) {
    this.#windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one for `key`; 0 when within `max`, else the milliseconds until the window turns. */
  take(key: string, max: number): number {
    const now = this.#turn();
    const slot = this.#slotOf(key);
    const count = (this.#counts.get(slot) ?? 0) + 1;
    this.#counts.set(slot, count);
    return count <= max ? 0 : this.#retryAfter(now);
  }

  /** Without counting: 0 when `key` may still spend one, else the milliseconds until the window turns. */
  blocked(key: string, max: number): number {
    const now = this.#turn();
    const count = this.#counts.get(this.#counts.has(key) ? key : this.#counts.size >= this.#maxKeys ? OVERFLOW_KEY : key) ?? 0;
    return count < max ? 0 : this.#retryAfter(now);
  }

  /** Keys held now (for tests and metrics). */
  get size(): number {
    return this.#counts.size;
  }

  #slotOf(key: string): string {
    if (this.#counts.has(key) || this.#counts.size < this.#maxKeys) return key;
    return OVERFLOW_KEY;
  }

  #turn(): number {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs || now < this.#windowStart) {
      this.#windowStart = now - (now % this.#windowMs);
      this.#counts = new Map();
    }
    return now;
  }

  #retryAfter(now: number): number {
    return Math.max(1, this.#windowStart + this.#windowMs - now);
  }
}
