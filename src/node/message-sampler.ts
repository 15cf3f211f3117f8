// Which routed messages GET /api/v1/events shows: the first `perSecond` of each one-second window. A quiet
// node shows every message (what someone watching wants); a busy one costs a listener at most `perSecond`
// events a second however fast it routes. Asked only while someone listens; the clock is injected.

export class MessageSampler {
  readonly #perSecond: number;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #taken = 0;

  constructor(perSecond: number, now: () => number = Date.now) {
    this.#perSecond = perSecond;
    this.#now = now;
  }

  /** True when this message is to be shown. */
  take(): boolean {
    if (this.#perSecond <= 0) return false;
    const now = this.#now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#taken = 0;
    }
    if (this.#taken >= this.#perSecond) return false;
    this.#taken++;
    return true;
  }
}
