// The memory every incoming gossip stream may buffer, together. One peer, or forty, cannot make the node
// hold more than this for stream bodies: a stream that would pass it is refused, the others go on.
export class StreamBudget {
  private used = 0;

  /**
   * @param limitBytes bytes all streams may hold together beyond their free allowance
   * @param freeBytesPerStream what each stream may hold without touching the budget: small messages (pings,
   *   user messages, a push-pull of a few dozen members) always go through, however the budget is spent;
   *   the connection cap bounds their sum.
   */
  constructor(
    readonly limitBytes: number,
    readonly freeBytesPerStream: number,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  get availableBytes(): number {
    return Math.max(0, this.limitBytes - this.used);
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when that would pass the limit. */
  tryTake(bytes: number): boolean {
    if (bytes <= 0) return true;
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  giveBack(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
