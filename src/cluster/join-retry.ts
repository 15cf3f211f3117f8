// `--join` in the background: the node starts at once and keeps trying its join addresses with capped,
// jittered exponential backoff until one answers, so nodes of a new cluster may start in any order.
// The addresses are asked for again on every attempt: a DNS name may list other members by then.
import type { PeerAddress } from './membership/transport.ts';

export interface JoinRetryOptions {
  /** The addresses to try now; a rejection counts as a failed attempt. */
  addresses: () => Promise<PeerAddress[]>;
  join: (addresses: PeerAddress[]) => Promise<number>;
  /**
   * For the first fastPhaseMs after start, retry every fastDelayMs: nodes of a new cluster start in any
   * order, and a node whose join target comes up later must find it within a second, not at a doubled
   * backoff (issue 9, finding a). Afterwards: initialDelayMs doubling up to maxDelayMs.
   */
  fastDelayMs: number;
  fastPhaseMs: number;
  /** First retry after the fast phase after this long, doubling up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  random: () => number;
  onJoined: (contacted: number, attempts: number) => void;
  onRetry: (error: Error, attempt: number, nextDelayMs: number) => void;
}

export class JoinRetry {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt = 0;
  private startedAt = 0;
  /** Attempts made after the fast phase: what the backoff doubles on. */
  private slowAttempts = 0;
  /** Resolves once a join succeeded (never, if stopped before). */
  readonly joined: Promise<void>;
  private resolveJoined!: () => void;

  constructor(private readonly options: JoinRetryOptions) {
    this.joined = new Promise((r) => (this.resolveJoined = r));
  }

  start(): void {
    this.startedAt = Date.now();
    void this.tryOnce();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async tryOnce(): Promise<void> {
    if (this.stopped) return;
    this.attempt += 1;
    try {
      const contacted = await this.options.join(await this.options.addresses());
      if (this.stopped) return;
      this.options.onJoined(contacted, this.attempt);
      this.resolveJoined();
    } catch (error) {
      if (this.stopped) return;
      const { initialDelayMs, maxDelayMs, random, fastDelayMs, fastPhaseMs } = this.options;
      const fast = Date.now() - this.startedAt < fastPhaseMs;
      if (!fast) this.slowAttempts += 1;
      const base = fast ? fastDelayMs : Math.min(maxDelayMs, initialDelayMs * 2 ** (this.slowAttempts - 1));
      // ±25% jitter so that nodes started together do not retry in lock step.
      const delay = Math.round(base * (0.75 + 0.5 * random()));
      this.options.onRetry(error as Error, this.attempt, delay);
      this.timer = setTimeout(() => void this.tryOnce(), delay);
      this.timer.unref();
    }
  }
}
