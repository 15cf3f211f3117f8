// A deterministic network in virtual time for many membership nodes in one process: seeded latency and
// loss, partitions, paused (SIGSTOP-like) or slow nodes, crashes. Same seed, same run.
import type { Clock, TimerHandle } from '../membership/clock.ts';
import type { PeerAddress } from '../membership/transport.ts';
import { EventQueue, type SimEvent } from './event-queue.ts';
import { exponential, fork, xoshiro128, type Rng } from './prng.ts';
import { SimTransport } from './sim-transport.ts';

/** Link latency in ms for one packet (or one stream leg). */
export type LatencyModel = (random: Rng, from: number, to: number) => number;

/** A LAN: 0.2 ms base plus an exponential tail with a 0.3 ms mean. */
export const lanLatency: LatencyModel = (random) => 0.2 + exponential(random, 0.3);

export interface SimNetworkOptions {
  seed: number;
  latency?: LatencyModel;
  /** Probability that a datagram is lost (streams are reliable, as TCP). */
  lossRate?: number;
}

/** One simulated host. */
export interface SimHost {
  readonly index: number;
  readonly address: PeerAddress;
  readonly transport: SimTransport;
  readonly clock: Clock;
  readonly random: Rng;
  crashed: boolean;
  /** Until this time the host runs nothing: timers and packets wait (SIGSTOP). */
  pausedUntil: number;
  /** Extra delay before the host handles each inbound packet (an overloaded node). */
  slowMs: number;
  partition: number;
  bytesSent: number;
  packetsSent: number;
}

export class SimNetwork {
  private readonly events = new EventQueue();
  readonly random: Rng;
  private current = 0;
  readonly hosts: SimHost[] = [];
  private readonly byAddress = new Map<string, SimHost>();
  latency: LatencyModel;
  lossRate: number;
  private settledPromise = false;
  private readonly blocked = new Set<string>();
  eventsRun = 0;

  constructor(options: SimNetworkOptions) {
    this.random = xoshiro128(options.seed);
    this.latency = options.latency ?? lanLatency;
    this.lossRate = options.lossRate ?? 0;
  }

  now(): number {
    return this.current;
  }

  addHost(): SimHost {
    const index = this.hosts.length;
    const address = { host: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, port: 7946 };
    const random = fork(this.random);
    const host = {
      index,
      address,
      random,
      crashed: false,
      pausedUntil: 0,
      slowMs: 0,
      partition: 0,
      bytesSent: 0,
      packetsSent: 0,
    } as SimHost;
    (host as { clock: Clock }).clock = this.clockFor(host);
    (host as { transport: SimTransport }).transport = new SimTransport(this, host);
    this.hosts.push(host);
    this.byAddress.set(key(address), host);
    return host;
  }

  hostAt(address: PeerAddress): SimHost | undefined {
    return this.byAddress.get(key(address));
  }

  crash(host: SimHost): void {
    host.crashed = true;
  }

  pause(host: SimHost, durationMs: number): void {
    host.pausedUntil = Math.max(host.pausedUntil, this.current + durationMs);
  }

  /** Splits the network: hosts in different groups cannot reach each other; unlisted hosts form group 0. */
  partition(groups: SimHost[][]): void {
    for (const h of this.hosts) h.partition = 0;
    groups.forEach((group, i) => {
      for (const h of group) h.partition = i + 1;
    });
  }

  heal(): void {
    for (const h of this.hosts) h.partition = 0;
  }

  /** One-way cuts: what `from` sends to `to` is lost, while `to` still reaches `from` (a one-sided firewall). */
  block(from: SimHost, to: SimHost): void {
    this.blocked.add(`${from.index}>${to.index}`);
  }

  /** Removes every one-way cut. */
  unblockAll(): void {
    this.blocked.clear();
  }

  canReach(from: SimHost, to: SimHost): boolean {
    return !from.crashed && !to.crashed && from.partition === to.partition && (this.blocked.size === 0 || !this.blocked.has(`${from.index}>${to.index}`));
  }

  /** Schedules fn on `host` after delayMs of virtual time, deferred while the host is paused. */
  schedule(host: SimHost, delayMs: number, fn: () => void): SimEvent {
    const event: SimEvent = this.events.push(this.current + Math.max(delayMs, 0), () => this.runOn(host, fn, event));
    return event;
  }

  /** Schedules a network-level action (not tied to a host's CPU). */
  at(delayMs: number, fn: () => void): SimEvent {
    return this.events.push(this.current + Math.max(delayMs, 0), fn);
  }

  /** A promise was settled: microtasks must run before the next event. */
  markSettled(): void {
    this.settledPromise = true;
  }

  linkLatency(from: SimHost, to: SimHost): number {
    return this.latency(this.random, from.index, to.index);
  }

  /**
   * Runs events until virtual time `untilMs` (absolute), or until `stop` holds; `stop` is checked when
   * virtual time moved by at least `checkEveryMs` (it may be costly: it often scans every node).
   */
  async runUntil(untilMs: number, stop?: () => boolean, checkEveryMs = 1): Promise<boolean> {
    let lastCheck = -Infinity;
    for (;;) {
      const next = this.events.peekTime();
      if (next === undefined || next > untilMs) break;
      const event = this.events.pop() as SimEvent;
      this.current = event.time;
      if (event.cancelled) continue;
      this.eventsRun += 1;
      event.run();
      if (this.settledPromise) {
        this.settledPromise = false;
        await drainMicrotasks();
      }
      if (stop && this.current - lastCheck >= checkEveryMs) {
        lastCheck = this.current;
        if (stop()) return true;
      }
    }
    this.current = Math.max(this.current, untilMs);
    await drainMicrotasks();
    return stop?.() ?? false;
  }

  runFor(durationMs: number, stop?: () => boolean, checkEveryMs?: number): Promise<boolean> {
    return this.runUntil(this.current + durationMs, stop, checkEveryMs);
  }

  private runOn(host: SimHost, fn: () => void, event: SimEvent): void {
    if (host.crashed || event.cancelled) return;
    if (host.pausedUntil > this.current) {
      // Cancelling the original handle still cancels the deferred run.
      this.events.push(host.pausedUntil, () => this.runOn(host, fn, event));
      return;
    }
    fn();
  }

  private clockFor(host: SimHost): Clock {
    return {
      now: () => this.current,
      setTimer: (delayMs: number, fn: () => void): TimerHandle => this.schedule(host, delayMs, fn),
      clearTimer: (handle: TimerHandle) => {
        if (handle) (handle as SimEvent).cancelled = true;
      },
    };
  }
}

function key(a: PeerAddress): string {
  return `${a.host}:${a.port}`;
}

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
