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
  /** The clock; Date.now by default. */
  now?: () => number;
  onJoined: (contacted: number, attempts: number) => void;
  onRetry: (error: Error, attempt: number, nextDelayMs: number) => void;
}

export class JoinRetry {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt = 0;
  /** When the fast phase began: at start, and again whenever another node joins this one. */
  private fastFrom = 0;
  /** When the pending retry is due (a timer is set), else undefined (an attempt under way, or done). */
  private dueAt: number | undefined;
  private done = false;
  /** Attempts made after the fast phase: what the backoff doubles on. */
  private slowAttempts = 0;
  /** Resolves once a join succeeded (never, if stopped before). */
  readonly joined: Promise<void>;
  private resolveJoined!: () => void;

  constructor(private readonly options: JoinRetryOptions) {
    this.joined = new Promise((r) => (this.resolveJoined = r));
  }

  start(): void {
    this.fastFrom = this.now();
    void this.tryOnce();
  }

  /**
   * Another node joined this one while its own targets still do not answer: the cluster is still forming
   * (its nodes are starting now, in some order), so the fast phase begins again and a retry waiting at a
   * doubled backoff is brought forward. Without this, a node started first whose target started over a
   * minute later (nodes started one by one on a loaded host) waited up to 30 s more, with the cluster split.
   */
  quicken(): void {
    if (this.stopped || this.done) return;
    this.fastFrom = this.now();
    this.slowAttempts = 0;
    if (this.dueAt === undefined || this.dueAt - this.now() <= this.options.fastDelayMs) return;
    clearTimeout(this.timer);
    this.schedule(this.jittered(this.options.fastDelayMs));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  // ±25% jitter so that nodes started together do not retry in lock step.
  private jittered(base: number): number {
    return Math.round(base * (0.75 + 0.5 * this.options.random()));
  }

  private schedule(delay: number): void {
    this.dueAt = this.now() + delay;
    this.timer = setTimeout(() => void this.tryOnce(), delay);
    this.timer.unref();
  }

  private async tryOnce(): Promise<void> {
    this.dueAt = undefined;
    if (this.stopped) return;
    this.attempt += 1;
    try {
      const contacted = await this.options.join(await this.options.addresses());
      if (this.stopped) return;
      this.done = true;
      this.options.onJoined(contacted, this.attempt);
      this.resolveJoined();
    } catch (error) {
      if (this.stopped) return;
      const { initialDelayMs, maxDelayMs, fastDelayMs, fastPhaseMs } = this.options;
      const fast = this.now() - this.fastFrom < fastPhaseMs;
      if (!fast) this.slowAttempts += 1;
      const base = fast ? fastDelayMs : Math.min(maxDelayMs, initialDelayMs * 2 ** (this.slowAttempts - 1));
      const delay = this.jittered(base);
      this.options.onRetry(error as Error, this.attempt, delay);
      this.schedule(delay);
    }
  }
}
