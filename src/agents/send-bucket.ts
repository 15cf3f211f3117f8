// One agent's send rate (config agents.send_rate, agents.send_burst): a token bucket. It outlives instances,
// so a trap or a restart does not refill it. The clock is read only when the bucket is empty, so an agent
// under its burst pays one decrement per send.
export class SendBucket {
  private tokens: number;
  private refilledAt: number;

  /** `now`: milliseconds, any origin. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.refilledAt = now();
  }

  /** Takes one send; false when the agent is over its rate (send_message then returns -3). */
  take(): boolean {
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
