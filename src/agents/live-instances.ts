// Which agents hold a live instance, oldest first, and the cap on how many may. Each live instance owns a
// wasm memory, and V8 reserves address space per memory (~10 GiB with its trap handler): a process fails
// near 13,000 of them. Past the cap, the oldest idle instances are shut down (agent_shutdown) and dropped;
// their agents stay `running` and get a fresh instance on their next message (lazy instantiation).
import type { AgentInstance } from './agent-instance.ts';
import type { AgentSlot } from './agent-slot.ts';
import { RingQueue } from './ring-queue.ts';

/** Stale entries tolerated beyond twice the live count before the queue is compacted. */
const STALE_SLACK = 1024;

interface LiveEntry {
  slot: AgentSlot;
  instance: AgentInstance;
}

export class LiveInstances {
  /** Each agent's newest instance (an entry goes stale when the instance trapped, stopped or was replaced). */
  private readonly latest = new Map<AgentSlot, AgentInstance>();
  /** Instantiation order, oldest first; a queue rather than iterating a Set, whose deleted holes make it O(n²). */
  private readonly order = new RingQueue<LiveEntry>(1024);
  /** Instances shut down to stay under the cap (a metric and a test). */
  evicted = 0;

  constructor(
    private readonly max: number,
    private readonly evict: (slot: AgentSlot) => void,
  ) {}

  /** Instances counted as live (ones that died since are dropped as the queue reaches them). */
  get size(): number {
    return this.latest.size;
  }

  /** The slot got a new instance. */
  started(slot: AgentSlot): void {
    if (slot.instance === null) return;
    this.latest.set(slot, slot.instance);
    this.order.push({ slot, instance: slot.instance });
    if (this.latest.size > this.max) this.trim();
    else if (this.order.length > 2 * this.latest.size + STALE_SLACK) this.compact();
  }

  /** Entries queued (stale ones included): at most twice the live count plus STALE_SLACK. */
  get queued(): number {
    return this.order.length;
  }

  /**
   * Below the cap nothing trims the queue, yet each restart, upgrade or re-instantiation of an agent queues
   * one more entry and leaves its previous one stale: dropped here, in order, once they outnumber the live
   * ones (amortised O(1) per start).
   */
  private compact(): void {
    for (const entry of this.order.drain()) if (this.latest.get(entry.slot) === entry.instance) this.order.push(entry);
  }

  /**
   * Shuts down the oldest idle instances until the cap holds. A busy one (work queued, timers, tool calls)
   * goes to the back of the queue; one pass over the queue at most.
   */
  private trim(): void {
    let budget = this.order.length;
    while (this.latest.size > this.max && budget-- > 0) {
      const entry = this.order.shift()!;
      const { slot, instance } = entry;
      if (this.latest.get(slot) !== instance) continue;
      if (slot.instance !== instance) {
        this.latest.delete(slot);
      } else if (isIdle(slot)) {
        this.latest.delete(slot);
        this.evict(slot);
        this.evicted++;
      } else {
        this.order.push(entry);
      }
    }
  }
}
function isIdle(slot: AgentSlot): boolean {
  return (
    slot.state === 'running' && !slot.stopping && !slot.scheduled && slot.mailbox.length === 0 &&
    slot.pendingToolCalls === 0 && slot.instance !== null && slot.instance.host.pendingTimers === 0
  );
}
