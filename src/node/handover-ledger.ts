// Agents this node adopted from a draining node, and from which: that node forwards what was queued for
// them and what still reaches it, with the senders it received them from (clients and agents of any node),
// so peer routing accepts those messages from it although it does not own their senders. Bounded by count
// and age: the forwarding lasts as long as the registry takes to converge, seconds.
import { AgeOrderedMap } from '../messaging/age-ordered-map.ts';

export const HANDOVER_LEDGER_DEFAULTS = {
  /** Long past any forwarding: a drain lingers drain_linger_ms (seconds) after its last hand-over. */
  ttlMs: 10 * 60_000,
  /** One entry per adopted agent (~100 B): 100,000 is ~10 MB at most; the oldest go first. */
  maxEntries: 100_000,
} as const;

export class HandoverLedger {
  /** Oldest first: trimming at maxEntries is O(1) (see age-ordered-map.ts). */
  readonly #from = new AgeOrderedMap<string, { node: string; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = HANDOVER_LEDGER_DEFAULTS.ttlMs,
    private readonly maxEntries: number = HANDOVER_LEDGER_DEFAULTS.maxEntries,
  ) {}

  adopted(agent: string, fromNode: string): void {
    this.#from.set(agent, { node: fromNode, at: this.now() });
    while (this.#from.size > this.maxEntries && this.#from.shift() !== undefined);
  }

  /** True when `fromNode` handed `agent` to this node recently. */
  forwardsFor(fromNode: string, agent: string): boolean {
    const entry = this.#from.get(agent);
    if (!entry || entry.node !== fromNode) return false;
    if (this.now() - entry.at > this.ttlMs) {
      this.#from.delete(agent);
      return false;
    }
    return true;
  }

  get size(): number {
    return this.#from.size;
  }
}
