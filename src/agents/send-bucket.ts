// One agent's send rate (config agents.send_rate, agents.send_burst): a token bucket. It outlives instances,
// so a trap or a restart does not refill it. The clock is read only when the bucket is empty, so an agent
// under its burst pays one decrement per send; tokens stay small integers (a fraction of one would make
// every decrement a floating-point store on the send path, measured ~4% of a ping-pong hop).
export class SendBucket {
  private tokens: number;
  private refilledAt: number;

  /** `now`: milliseconds, any origin. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst | 0;
    this.refilledAt = now();
  }

  /** Takes one send; false when the agent is over its rate (send_message then returns -3). */
  take(): boolean {
    if (this.tokens > 0) {
      this.tokens--;
      return true;
    }
    const now = this.now();
    const earned = Math.floor(((now - this.refilledAt) * this.ratePerSecond) / 1000);
    if (earned < 1) return false;
    // The time of the whole tokens earned moves on; the fraction of one carries over to the next refill.
    this.refilledAt = earned >= this.burst ? now : this.refilledAt + (earned * 1000) / this.ratePerSecond;
    this.tokens = Math.min(this.burst, earned) - 1;
    return true;
  }
}
