// Lifeguard's dynamic suspicion timer (memberlist suspicion.go): starts at `max` and shrinks towards `min`
// as independent nodes confirm the suspicion, so a node that really failed is declared dead fast while a
// lone (possibly unhealthy) accuser has to wait the long timeout.
import type { Clock, TimerHandle } from './clock.ts';
import { remainingSuspicionTime } from './timing.ts';

export class Suspicion {
  /** Confirmations received so far (not counting the first accuser). */
  private n = 0;
  private readonly confirmations = new Set<string>();
  private readonly start: number;
  private timer: TimerHandle | undefined;
  private fired = false;

  /**
   * @param k confirmations expected; 0 means "do not wait for any": the timer uses `min` directly.
   * @param onTimeout called once with the number of confirmations seen.
   */
  constructor(
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly clock: Clock,
    private readonly onTimeout: (confirmations: number) => void,
  ) {
    this.confirmations.add(from);
    this.start = clock.now();
    this.arm(k < 1 ? minMs : maxMs);
  }

  /** Records a confirmation from a new node; true when it was new (and so worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.n >= this.k) return false;
    if (this.confirmations.has(from)) return false;
    this.confirmations.add(from);
    this.n += 1;
    if (this.fired) return true;
    const remaining = remainingSuspicionTime(this.n, this.k, this.clock.now() - this.start, this.minMs, this.maxMs);
    this.clock.clearTimer(this.timer);
    // Past due: fire from a fresh timer, never inside the caller's state update (memberlist uses a goroutine).
    this.arm(Math.max(remaining, 0));
    return true;
  }

  /** Stops the timer (the node was refuted, declared dead, or we shut down). */
  cancel(): void {
    this.fired = true;
    this.clock.clearTimer(this.timer);
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimer(ms, () => this.fire());
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.onTimeout(this.n);
  }
}
