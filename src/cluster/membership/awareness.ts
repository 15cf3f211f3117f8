// Lifeguard's local health awareness (memberlist awareness.go): a node that misses nacks or has to refute
// accusations is probably the slow one, so it probes less often and waits longer before blaming others.

export class Awareness {
  private score = 0;

  /** @param max the multiplier cap; the score stays in [0, max - 1]. */
  constructor(private readonly max: number) {}

  applyDelta(delta: number): void {
    this.score = Math.min(Math.max(this.score + delta, 0), this.max - 1);
  }

  healthScore(): number {
    return this.score;
  }

  /** timeout * (score + 1). */
  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
