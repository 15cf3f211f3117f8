// memberlist's TransmitLimitedQueue (queue.go): gossip to piggyback, least-transmitted first, each message
// sent retransmitLimit times (timing.ts), and a newer message about a node replacing the older one.
//
// Instead of memberlist's btree, items live in one array per transmit count ("tier"); within a tier the
// newest message that fits is taken first. memberlist also prefers the largest message that fits (a packing
// heuristic); SWIM messages are of near-equal size, so newest-first is kept and largest-first dropped.
import type { PacketMessage } from './messages.ts';
import { retransmitLimit } from './timing.ts';

export interface Broadcast {
  message: PacketMessage;
  /** Encoded size in bytes (from the transport), fixed at enqueue time. */
  size: number;
  /** Set for messages about a node: a newer one about the same node invalidates this one. */
  name?: string;
  /** Called once when the message was sent enough times or was invalidated. */
  onFinished?: () => void;
}

interface QueuedBroadcast extends Broadcast {
  transmits: number;
  live: boolean;
}

/**
 * A tier's array may hold stale references: an entry counts only if it is live and its transmits equal the
 * tier's index (a message moves up a tier by being pushed again, not by being spliced out).
 */
interface Tier {
  items: QueuedBroadcast[];
  stale: number;
  /** A lower bound of the sizes in the tier, to skip it when nothing can fit. */
  minSize: number;
}

export class BroadcastQueue {
  private readonly tiers: Tier[] = [];
  private readonly byName = new Map<string, QueuedBroadcast>();
  private live = 0;

  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
  ) {}

  get length(): number {
    return this.live;
  }

  queue(broadcast: Broadcast): void {
    if (broadcast.name !== undefined) {
      const old = this.byName.get(broadcast.name);
      if (old) {
        this.drop(old);
        this.compact(this.tiers[old.transmits], old.transmits);
        old.onFinished?.();
      }
    }
    const item: QueuedBroadcast = { ...broadcast, transmits: 0, live: true };
    if (item.name !== undefined) this.byName.set(item.name, item);
    this.live += 1;
    this.push(item);
  }

  /**
   * Takes the messages to piggyback on one packet: each costs `overhead` + its size, within `limit` bytes.
   */
  take(overhead: number, limit: number): PacketMessage[] {
    if (this.live === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    const out: PacketMessage[] = [];
    const moved: QueuedBroadcast[] = [];
    let used = 0;
    for (let t = 0; t < this.tiers.length; t++) {
      const tier = this.tiers[t];
      if (tier.items.length === tier.stale) continue;
      if (limit - used - overhead <= 0) break;
      if (limit - used - overhead < tier.minSize) continue;
      const items = tier.items;
      // The smallest item left behind, when the scan covers the whole tier: minSize becomes exact again,
      // so later packets skip a tier whose small messages are all gone instead of rescanning it.
      let leftMin = Infinity;
      let i = items.length - 1;
      for (; i >= 0; i--) {
        const item = items[i];
        if (!item.live || item.transmits !== t) continue;
        if (item.size > limit - used - overhead) {
          if (item.size < leftMin) leftMin = item.size;
          continue;
        }
        used += overhead + item.size;
        out.push(item.message);
        tier.stale += 1;
        if (item.transmits + 1 >= transmitLimit) {
          this.drop(item, false);
          item.onFinished?.();
        } else {
          moved.push(item);
        }
        // minSize bounds every size in this tier: once even that cannot fit, no later item can (this
        // early exit keeps a full packet from scanning a join storm's thousand queued alives).
        if (limit - used - overhead < tier.minSize) break;
      }
      if (i < 0) tier.minSize = leftMin;
      this.compact(tier, t);
    }
    // Moved up a tier only now, so that one call never sends the same message twice.
    for (const item of moved) {
      item.transmits += 1;
      this.push(item);
    }
    return out;
  }

  /** Drops everything (on shutdown), finishing each message. */
  reset(): void {
    for (const [t, tier] of this.tiers.entries()) {
      for (const item of tier.items) if (item.live && item.transmits === t) item.onFinished?.();
    }
    this.tiers.length = 0;
    this.byName.clear();
    this.live = 0;
  }

  private push(item: QueuedBroadcast): void {
    for (let t = this.tiers.length; t <= item.transmits; t++) this.tiers[t] = { items: [], stale: 0, minSize: Infinity };
    const tier = this.tiers[item.transmits];
    tier.items.push(item);
    if (item.size < tier.minSize) tier.minSize = item.size;
  }

  private drop(item: QueuedBroadcast, countStale = true): void {
    item.live = false;
    if (countStale) this.tiers[item.transmits].stale += 1;
    if (item.name !== undefined && this.byName.get(item.name) === item) this.byName.delete(item.name);
    this.live -= 1;
  }

  private compact(tier: Tier, t: number): void {
    const items = tier.items;
    // Taken messages are the newest, at the end: trimming the tail keeps the scan short.
    while (items.length > 0) {
      const last = items[items.length - 1];
      if (last.live && last.transmits === t) break;
      items.pop();
      tier.stale -= 1;
    }
    if (items.length === 0) {
      tier.stale = 0;
      tier.minSize = Infinity;
      return;
    }
    if (tier.stale * 2 <= items.length) return;
    tier.items = items.filter((item) => item.live && item.transmits === t);
    tier.stale = 0;
    tier.minSize = tier.items.reduce((min, item) => Math.min(min, item.size), Infinity);
  }
}
