// memberlist's TransmitLimitedQueue (queue.go): gossip to piggyback, least-transmitted first, each message
// sent retransmitLimit times (timing.ts), and a newer message about a node replacing the older one.
//
// Instead of memberlist's btree, items live in one array per transmit count ("tier"); within a tier the
// newest message that fits is taken first. memberlist also prefers the largest message that fits (a packing
// heuristic); SWIM messages are of near-equal size, so newest-first is kept and largest-first dropped.
//
// Bounded, unlike memberlist's: a message larger than an empty packet is refused (take() would skip it
// forever), and past maxItems the most transmitted message is dropped, as memberlist's Prune (which Serf
// calls on its own queues) drops the btree's Max; among equals, the one longest at that count.
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
  /** Every entry before it is stale: eviction takes the oldest without rescanning the dropped ones. */
  head: number;
}

export interface BroadcastQueueLimits {
  /** Messages held at most. */
  maxItems: number;
  /** The largest message an empty packet carries (its limit minus the per-message overhead). */
  maxItemBytes: number;
  /** Told of each message dropped for a limit, to log it. */
  onDropped?: (reason: 'too-large' | 'queue-full', broadcast: Broadcast) => void;
}

const UNBOUNDED: BroadcastQueueLimits = { maxItems: Infinity, maxItemBytes: Infinity };

export class BroadcastQueue {
  private readonly tiers: Tier[] = [];
  private readonly byName = new Map<string, QueuedBroadcast>();
  private live = 0;

  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
    private readonly limits: BroadcastQueueLimits = UNBOUNDED,
  ) {}

  get length(): number {
    return this.live;
  }

  /** Queues a message; false when it is too large for any packet (finished at once, never sent). */
  queue(broadcast: Broadcast): boolean {
    if (broadcast.name !== undefined) {
      // Even a refused newer message makes the queued one stale: it must not be sent after it.
      const old = this.byName.get(broadcast.name);
      if (old) this.finish(old);
    }
    if (broadcast.size > this.limits.maxItemBytes) {
      this.limits.onDropped?.('too-large', broadcast);
      broadcast.onFinished?.();
      return false;
    }
    const item: QueuedBroadcast = { ...broadcast, transmits: 0, live: true };
    if (item.name !== undefined) this.byName.set(item.name, item);
    this.live += 1;
    this.push(item);
    if (this.live > this.limits.maxItems) this.evictOne();
    return true;
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
      for (; i >= tier.head; i--) {
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
      if (i < tier.head) tier.minSize = leftMin;
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
    for (let t = this.tiers.length; t <= item.transmits; t++) this.tiers[t] = { items: [], stale: 0, minSize: Infinity, head: 0 };
    const tier = this.tiers[item.transmits];
    tier.items.push(item);
    if (item.size < tier.minSize) tier.minSize = item.size;
  }

  /**
   * Drops the most transmitted message, the longest in its tier: the one closest to done anyway (memberlist
   * Prune). The message just queued is the newest of tier 0 and not alone in the queue: never the one.
   */
  private evictOne(): void {
    for (let t = this.tiers.length - 1; t >= 0; t--) {
      const tier = this.tiers[t];
      const items = tier.items;
      while (tier.head < items.length) {
        const item = items[tier.head];
        if (!item.live || item.transmits !== t) {
          tier.head += 1;
          continue;
        }
        this.limits.onDropped?.('queue-full', item);
        this.finish(item);
        return;
      }
    }
  }

  private finish(item: QueuedBroadcast): void {
    const t = item.transmits;
    this.drop(item);
    this.compact(this.tiers[t], t);
    item.onFinished?.();
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
      tier.head = 0;
      return;
    }
    if (tier.stale * 2 <= items.length) return;
    tier.items = items.filter((item) => item.live && item.transmits === t);
    tier.stale = 0;
    tier.head = 0;
    tier.minSize = tier.items.reduce((min, item) => Math.min(min, item.size), Infinity);
  }
}
