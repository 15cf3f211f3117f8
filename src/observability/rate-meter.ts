// A rate over the last few seconds from a counter that only grows: the counter is read once a second into
// a small ring, and the rate is the difference across the ring. Nothing is done per event.
export class RateMeter {
  readonly #read: () => number;
  readonly #now: () => number;
  readonly #times: number[] = [];
  readonly #values: number[] = [];
  readonly #slots: number;
  readonly #timer: NodeJS.Timeout | undefined;

  /** `read` is the counter; the rate spans up to `windowSeconds` of its readings. */
  constructor(read: () => number, windowSeconds: number, options: { now?: () => number; autoTick?: boolean } = {}) {
    this.#read = read;
    this.#now = options.now ?? (() => performance.now());
    this.#slots = windowSeconds + 1;
    this.tick();
    if (options.autoTick ?? true) this.#timer = setInterval(() => this.tick(), 1000).unref();
  }

  tick(): void {
    this.#times.push(this.#now());
    this.#values.push(this.#read());
    if (this.#times.length > this.#slots) {
      this.#times.shift();
      this.#values.shift();
    }
  }

  /** Events per second over the readings held plus now; 0 before a second has passed. */
  perSecond(): number {
    const elapsedMs = this.#now() - this.#times[0];
    if (elapsedMs < 500) return 0;
    return ((this.#read() - this.#values[0]) * 1000) / elapsedMs;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
