// Gossip convergence as this node sees it, measured: how long after a registry write was made at its writer
// this node learnt it by gossip. The writer sends, beside the unchanged update, a stamp of when it made the
// write (registry-codec.ts, registryStamp); the two travel as separate gossip messages and may arrive in
// either order, so whichever comes first waits here (by agent name, bounded) for the other. A sample is the
// local wall-clock time at which the update changed this registry minus the writer's wall-clock time of the
// write: exact between nodes on one host, off by the clock skew between hosts (NTP keeps that to
// milliseconds; docs/operations.md says so). Pure: the caller passes the time.
import { compareEntries as compare } from './registry-entry.ts';
import { AgeOrderedMap } from '../../messaging/age-ordered-map.ts';

/** One write of a name, as the registry orders writes. */
export interface WriteId {
  name: string;
  lamport: number;
  writer: string;
}

export const CONVERGENCE_METER_DEFAULTS = {
  /**
   * Writes waiting for their partner (an update for its stamp or the reverse), and writes already paired
   * (so a stamp heard again is not relayed again). The oldest is forgotten first. 4,096 is far more than
   * arrive within one gossip round-trip of each other, and ~0.5 MB at most.
   */
  maxPending: 4096,
  /**
   * A sample above this is not believed (counted, not recorded): gossip that took ten minutes is push-pull's
   * business, and a forged or wildly wrong clock must not make the percentiles say anything.
   */
  maxSampleMs: 600_000,
};

export interface ConvergenceMeterStats {
  /** Samples taken: updates learnt by gossip whose stamp came too. */
  samples: number;
  /** Samples below zero (the writer's clock ahead of this node's), recorded as 0. */
  clockSkewed: number;
  /** Samples above maxSampleMs, not recorded. */
  implausible: number;
}

interface Pending {
  lamport: number;
  writer: string;
  /** Local wall-clock ms at which the update changed the registry (by gossip). */
  learntAt?: number;
  /** The writer's wall-clock ms of the write, from its stamp. */
  writtenAt?: number;
}

export class ConvergenceMeter {
  private readonly pending = new AgeOrderedMap<string, Pending>();
  private readonly counters: ConvergenceMeterStats = { samples: 0, clockSkewed: 0, implausible: 0 };

  constructor(
    /** Called with each sample, in ms. */
    private readonly onSample: (ms: number) => void,
    private readonly maxPending: number = CONVERGENCE_METER_DEFAULTS.maxPending,
  ) {}

  get stats(): ConvergenceMeterStats {
    return { ...this.counters };
  }

  /** Writes held now (waiting or paired). */
  get held(): number {
    return this.pending.size;
  }

  /** An update received by gossip changed the registry at local time `now` (ms). */
  learnt(write: WriteId, now: number): void {
    const p = this.pending.get(write.name);
    const order = p ? compare(p, write) : -1;
    if (order > 0) return;
    if (order === 0) {
      if (p!.learntAt !== undefined) return;
      p!.learntAt = now;
      if (p!.writtenAt !== undefined) this.sample(now - p!.writtenAt);
      return;
    }
    this.hold(write.name, { lamport: write.lamport, writer: write.writer, learntAt: now });
  }

  /**
   * A stamp: the write `write` was made at `writtenAt` (the writer's ms). True when it is news here, so the
   * caller relays it; false for a stamp heard before or of a write already superseded (`current`: the write
   * the registry holds for the name, if any).
   */
  stamped(write: WriteId, writtenAt: number, current: { lamport: number; writer: string } | undefined): boolean {
    if (current && compare(current, write) > 0) return false;
    const p = this.pending.get(write.name);
    const order = p ? compare(p, write) : -1;
    if (order > 0) return false;
    if (order === 0) {
      if (p!.writtenAt !== undefined) return false;
      p!.writtenAt = writtenAt;
      if (p!.learntAt !== undefined) this.sample(p!.learntAt - writtenAt);
      return true;
    }
    this.hold(write.name, { lamport: write.lamport, writer: write.writer, writtenAt });
    return true;
  }

  private hold(name: string, p: Pending): void {
    // Re-inserted, so the map's order stays oldest first.
    this.pending.delete(name);
    if (this.pending.size >= this.maxPending) this.pending.shift();
    this.pending.set(name, p);
  }

  private sample(ms: number): void {
    if (ms > CONVERGENCE_METER_DEFAULTS.maxSampleMs) {
      this.counters.implausible += 1;
      return;
    }
    this.counters.samples += 1;
    if (ms < 0) this.counters.clockSkewed += 1;
    try {
      this.onSample(Math.max(0, ms));
    } catch {
      /* the figure's owner logs its own failures; measuring never breaks gossip */
    }
  }
}
