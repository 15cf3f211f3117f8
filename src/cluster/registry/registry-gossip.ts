// The registry on the membership's gossip: this node's writes and the updates it learns go out as user
// messages through the broadcast queue (a newer update of an agent replaces the queued older one), and the
// whole registry rides in push-pull user state to repair what gossip missed. A peer that is not Caxton (a
// stock Serf agent) logs our payloads as unknown and carries on; theirs are ignored here.
// Beside each of its own writes this node gossips a stamp of when it made it, and measures from the stamps
// of others how long their writes took to reach it (convergence-meter.ts).
import { CAXTON_MAGIC, PayloadKind } from '../caxton-payload.ts';
import type { AgentRegistry } from './agent-registry.ts';
import { CONVERGENCE_METER_DEFAULTS, ConvergenceMeter, type ConvergenceMeterStats } from './convergence-meter.ts';
import { decodeStamp, encodeStamp, encodeUpdate, entryShaped, type RegistryStamp } from './registry-codec.ts';
import type { RegistryEntry } from './registry-entry.ts';

/** What the registry needs of the membership (Membership implements it). */
export interface UserGossip {
  sendUser(payload: Uint8Array, key?: string, onFinished?: () => void): void;
  readonly maxUserPayloadBytes: number;
}

export const REGISTRY_GOSSIP_DEFAULTS = {
  /**
   * Registry updates waiting in the broadcast queue at most (Serf's MaxQueueDepth is 4096 for the same
   * reason): a bulk deploy of 100,000 agents would otherwise hold 100,000 updates (~15 MB) and delay every
   * SWIM message behind them. Beyond it, updates are not gossiped; push-pull carries them.
   */
  maxQueued: 4096,
  /**
   * Push-pull user state at most: under memberlist's 20 MiB limit on a whole push-pull stream (wire
   * pushpull.ts MAX_PUSH_STATE_BYTES), with room for the member list. A larger registry goes in slices,
   * one per push-pull, in turn.
   */
  maxStateBytes: 16 * 1024 * 1024,
  /**
   * Stamps (when a write was made, for the convergence figure) waiting in the broadcast queue at most: a
   * quarter of maxQueued, so a bulk deploy spends its queue on updates; beyond it a write goes unstamped
   * and unmeasured, nothing else.
   */
  maxStampsQueued: 1024,
  /** Writes an update or stamp waits for its partner (convergence-meter.ts). */
  maxPendingWrites: CONVERGENCE_METER_DEFAULTS.maxPending,
};

export type RegistryGossipLimits = typeof REGISTRY_GOSSIP_DEFAULTS;

export interface RegistryGossipStats {
  /** Updates now in the broadcast queue. */
  queued: number;
  /** Updates not gossiped because the queue held maxQueued (push-pull carries them). */
  skippedQueueFull: number;
  /** Updates larger than a gossip packet (push-pull carries them). */
  skippedTooLarge: number;
  /** Updates received that changed the registry (and were relayed). */
  received: number;
  /** Stamps of this node's writes and of others' (relayed) now in the broadcast queue. */
  stampsQueued: number;
  /** Writes not stamped, or stamps not relayed, because maxStampsQueued were queued. */
  stampsSkipped: number;
  /** Stamps received that were news here (and were relayed). */
  stampsReceived: number;
  /** Updates and stamps refused unread: larger than any valid record makes, or not shaped as one. */
  refused: number;
}

export class RegistryGossip {
  private readonly counters: RegistryGossipStats = {
    queued: 0,
    skippedQueueFull: 0,
    skippedTooLarge: 0,
    received: 0,
    stampsQueued: 0,
    stampsSkipped: 0,
    stampsReceived: 0,
    refused: 0,
  };
  private readonly limits: RegistryGossipLimits;
  private readonly meter: ConvergenceMeter;
  private convergenceListener: ((ms: number) => void) | undefined;

  constructor(
    private readonly registry: AgentRegistry,
    /** A function: the membership is built with this object's delegate, so it exists only afterwards. */
    private readonly gossip: () => UserGossip | undefined,
    limits: Partial<RegistryGossipLimits> = {},
    /** Wall-clock ms (Unix time on a node, virtual time in the simulator): what stamps carry. */
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...REGISTRY_GOSSIP_DEFAULTS, ...limits };
    this.meter = new ConvergenceMeter((ms) => this.convergenceListener?.(ms), this.limits.maxPendingWrites);
    registry.onSpread((entry, payload) => {
      this.queue(entry, payload);
      this.queueStamp({ name: entry.name, lamport: entry.lamport, writer: entry.writer, writtenAtMs: this.now() });
    });
  }

  get stats(): RegistryGossipStats {
    return { ...this.counters };
  }

  get convergenceStats(): ConvergenceMeterStats {
    return this.meter.stats;
  }

  /** Called with each convergence sample (ms from a peer's write to this node learning it by gossip); one listener. */
  onConvergence(listener: (ms: number) => void): void {
    this.convergenceListener = listener;
  }

  /** True when the payload was a registry update or stamp (applied or not); false for anything else. */
  notifyMessage(payload: Uint8Array): boolean {
    if (payload.length < 2 || payload[0] !== CAXTON_MAGIC) return false;
    if (payload[1] !== PayloadKind.registryStamp && payload[1] !== PayloadKind.registryUpdate) return false;
    if (!entryShaped(payload)) {
      this.counters.refused += 1;
      return true;
    }
    if (payload[1] === PayloadKind.registryStamp) {
      this.receiveStamp(payload);
      return true;
    }
    const entry = this.registry.receiveUpdate(payload);
    if (entry) {
      this.counters.received += 1;
      this.meter.learnt(entry, this.now());
      // memberlist does not relay user messages; re-gossiping what was new to us makes it an epidemic.
      this.queue(entry, payload);
    }
    return true;
  }

  localState(): Uint8Array {
    return this.registry.localState(this.limits.maxStateBytes);
  }

  mergeRemoteState(state: Uint8Array): void {
    if (state.length < 2 || state[0] !== CAXTON_MAGIC || state[1] !== PayloadKind.registryState) return;
    this.registry.mergeState(state);
  }

  private receiveStamp(payload: Uint8Array): void {
    const stamp = decodeStamp(payload);
    if (!stamp || stamp.writer === this.registry.nodeId) return;
    if (!this.meter.stamped(stamp, stamp.writtenAtMs, this.registry.writeOf(stamp.name))) return;
    this.counters.stampsReceived += 1;
    this.queueStamp(stamp, payload);
  }

  private queueStamp(stamp: RegistryStamp, payload?: Uint8Array): void {
    const gossip = this.gossip();
    if (!gossip) return;
    if (this.counters.stampsQueued >= this.limits.maxStampsQueued) {
      this.counters.stampsSkipped += 1;
      return;
    }
    const bytes = payload ?? encodeStamp(stamp);
    // An agent name and a node id at their bounds still fit a gossip packet; a tiny configured one may not.
    if (bytes.length > gossip.maxUserPayloadBytes) return;
    this.counters.stampsQueued += 1;
    gossip.sendUser(bytes, `registry-stamp:${stamp.name}`, () => {
      this.counters.stampsQueued -= 1;
    });
  }

  private queue(entry: RegistryEntry, payload: Uint8Array = encodeUpdate(entry)): void {
    const gossip = this.gossip();
    if (!gossip) return;
    if (payload.length > gossip.maxUserPayloadBytes) {
      this.counters.skippedTooLarge += 1;
      return;
    }
    if (this.counters.queued >= this.limits.maxQueued) {
      this.counters.skippedQueueFull += 1;
      return;
    }
    this.counters.queued += 1;
    gossip.sendUser(payload, `registry:${entry.name}`, () => {
      this.counters.queued -= 1;
    });
  }
}
