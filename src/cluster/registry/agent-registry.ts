// The cluster-wide agent registry of one node (cluster.md "Agent registry"): name → AgentRecord as a
// last-writer-wins map ordered by (Lamport time, writer), with tombstones for deleted agents. Pure: time is
// injected, and the network is someone else's job (registry-gossip.ts spreads what `onSpread` hands it).
//
// Nothing is persisted. A node is the only writer of its own entries, so when it hears an entry written by
// itself that is newer than what it holds, that entry comes from an earlier run of the node (its Lamport
// clock started again at 0 after a restart): it answers with a fresh write above it, its current truth (the
// record of an agent it runs, or a tombstone), exactly as SWIM refutes a stale suspicion with a higher
// incarnation. Merging advances the clock past every time seen, so after one push-pull the restarted node
// writes above anything the cluster holds, and a stale record can never win over a newer one.
import { CaxtonError } from '../../errors.ts';
import { copyRecord, recordProblem, sameRecord, type AgentRecord } from './agent-record.ts';
import { decodeState, decodeUpdate, encodeEntry, encodeState, STATE_OVERHEAD_BYTES, updateOf } from './registry-codec.ts';
import { mergeEntries, type RegistryEntry } from './registry-entry.ts';

export interface AgentRegistryOptions {
  /** This node's id: the writer of every entry it originates. */
  nodeId: string;
  /** Milliseconds on any monotonic scale (tombstone ages only). */
  now: () => number;
  /** Entries held, tombstones included (config registry.max_records). */
  maxRecords: number;
  /** A tombstone is forgotten this long after it was written or learnt (config registry.tombstone_ttl_ms). */
  tombstoneTtlMs: number;
  /** Unix time in ms: what bounds a peer's Lamport times (LAMPORT_TICKS_PER_MS). Default Date.now. */
  wallClock?: () => number;
}

/**
 * A peer's write stamped above LAMPORT_TICKS_PER_MS × (Unix time in ms) is refused. A Lamport time counts
 * writes (each write is its writer's clock + 1, and merging takes the larger), so no cluster reaches that
 * many writes per ms since 1970; but any peer, or anyone while gossip is unencrypted, can send a write
 * stamped Number.MAX_SAFE_INTEGER: every node's clock then sat at 2^53, its next writes were above what
 * peers decode, and no deploy, upgrade or delete spread again until every node restarted at once (one 26-byte
 * datagram). The bound moves 1,024 ticks a millisecond, so a forged time at it is overtaken by its owner's
 * next write within a millisecond or two, as any other forged write is, and the clock cannot reach 2^53
 * before the year 2248.
 */
export const LAMPORT_TICKS_PER_MS = 1024;
/** The bound's floor (2025-01-01) for a node whose clock is set before it: its peers' writes are not all refused. */
const LAMPORT_CLOCK_FLOOR_MS = Date.UTC(2025, 0, 1);

export type RegistryChangeListener = (name: string, current: AgentRecord | undefined, previous: AgentRecord | undefined) => void;

export interface RegistryStats {
  records: number;
  tombstones: number;
  lamport: number;
  /** Entries from peers refused because the registry was full. */
  refusedFull: number;
  /** Entries from an earlier run of this node answered with a fresh write. */
  refuted: number;
  /** Entries from peers refused for a Lamport time beyond what the cluster could have written by now. */
  refusedAhead: number;
}

interface Slot extends RegistryEntry {
  /** Local time the slot last changed: a tombstone's age. */
  changedAt: number;
  /** The encoded entry, kept for push-pull until the slot changes. */
  encoded?: Uint8Array;
}

export class AgentRegistry {
  readonly nodeId: string;
  private readonly options: AgentRegistryOptions;
  private lamport = 0;
  private readonly slots = new Map<string, Slot>();
  /** The records of the agents this node runs, as last published: what a refutation re-asserts. */
  private readonly own = new Map<string, AgentRecord>();
  private readonly perNode = new Map<string, number>();
  private readonly listeners = new Set<RegistryChangeListener>();
  private spread: ((entry: RegistryEntry, payload: Uint8Array) => void) | undefined;
  private tombstones = 0;
  private refusedFull = 0;
  private refuted = 0;
  private refusedAhead = 0;
  /** Where the next push-pull state starts when the registry does not fit one. */
  private stateCursor = 0;

  constructor(options: AgentRegistryOptions) {
    this.options = options;
    this.nodeId = options.nodeId;
  }

  get(name: string): AgentRecord | undefined {
    const record = this.slots.get(name)?.record;
    return record ? copyRecord(record) : undefined;
  }

  /** True when the name's newest write is a deletion (a tombstone not yet forgotten). */
  deleted(name: string): boolean {
    const slot = this.slots.get(name);
    return slot !== undefined && slot.record === null;
  }

  /** Every known agent (no tombstones), by name. */
  list(): AgentRecord[] {
    const out: AgentRecord[] = [];
    for (const slot of this.slots.values()) if (slot.record) out.push(copyRecord(slot.record));
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The write the name's slot holds (a record or a tombstone), if any: what orders a newer one. */
  writeOf(name: string): { lamport: number; writer: string } | undefined {
    const slot = this.slots.get(name);
    return slot && { lamport: slot.lamport, writer: slot.writer };
  }

  /** Known agents per node id. */
  countByNode(): Map<string, number> {
    return new Map(this.perNode);
  }

  get size(): number {
    return this.slots.size - this.tombstones;
  }

  stats(): RegistryStats {
    return { records: this.size, tombstones: this.tombstones, lamport: this.lamport, refusedFull: this.refusedFull, refuted: this.refuted, refusedAhead: this.refusedAhead };
  }

  /**
   * An agent of THIS node was deployed or changed: its record, written at a fresh Lamport time, spreads.
   * Throws INVALID_ARGUMENT for a record out of bounds or of another node, UNAVAILABLE when full.
   */
  publish(record: AgentRecord): void {
    const problem = recordProblem(record);
    if (problem) throw new CaxtonError('INVALID_ARGUMENT', `agent record of '${String(record.name)}': invalid ${problem}`, { field: problem });
    if (record.node !== this.nodeId) {
      throw new CaxtonError('INVALID_ARGUMENT', `a node publishes only its own agents: '${record.name}' is on '${record.node}'`);
    }
    const copy = copyRecord(record);
    const current = this.slots.get(copy.name);
    this.own.set(copy.name, copy);
    if (current && current.writer === this.nodeId && sameRecord(current.record ?? undefined, copy)) return;
    if (!current) this.makeRoom(true);
    this.write(copy.name, copy);
  }

  /** An agent of this node was deleted: a tombstone spreads. Nothing happens for an unknown name. */
  withdraw(name: string): void {
    const owned = this.own.delete(name);
    const current = this.slots.get(name);
    if (!owned && !current?.record) return;
    this.write(name, null);
  }

  /**
   * This node stopped running `name` but the agent lives on elsewhere (it yielded a duplicate copy to its
   * keeper, or a drain handed it over): no tombstone, and a refutation no longer re-asserts this node's old
   * record.
   */
  disown(name: string): void {
    this.own.delete(name);
  }

  /**
   * This node's own writes newer than Lamport time `since`, as gossip update payloads (at most `max`, oldest
   * first): what a member that was gone meanwhile (a partition healed, a node restarted) missed of this
   * node, handed to it directly. The same entries, nothing new is written, so every node still orders them
   * alike. Without them the two sides may each take an agent for theirs until a periodic push-pull.
   */
  ownUpdatesSince(since: number, max: number): Uint8Array[] {
    const slots: Slot[] = [];
    for (const slot of this.slots.values()) if (slot.writer === this.nodeId && slot.lamport > since) slots.push(slot);
    slots.sort((a, b) => a.lamport - b.lamport);
    return slots.slice(0, max).map((slot) => {
      slot.encoded ??= encodeEntry(slot);
      return updateOf(slot.encoded);
    });
  }

  /** Called with every change of a name's record (undefined = no such agent); returns the unsubscribe. */
  onChange(listener: RegistryChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Where this node's own writes go (the gossip binding); one at a time. */
  onSpread(spread: (entry: RegistryEntry, payload: Uint8Array) => void): void {
    this.spread = spread;
  }

  /**
   * A gossip update from a peer: the entry when it changed this registry (the caller relays it then, as
   * Serf relays its user events), undefined for a stale, duplicate, refused or foreign payload. Never throws.
   */
  receiveUpdate(payload: Uint8Array): RegistryEntry | undefined {
    const entry = decodeUpdate(payload);
    return entry && this.merge(entry) ? entry : undefined;
  }

  /** Merges a peer's push-pull state; a foreign or malformed state is ignored. Never throws. */
  mergeState(payload: Uint8Array): { merged: number; invalid: number } {
    const state = decodeState(payload, (name, lamport, writer) => {
      const slot = typeof name === 'string' ? this.slots.get(name) : undefined;
      return slot !== undefined && slot.lamport === lamport && slot.writer === writer;
    });
    if (!state) return { merged: 0, invalid: 0 };
    let merged = 0;
    for (const entry of state.entries) if (this.merge(entry)) merged += 1;
    return { merged, invalid: state.invalid };
  }

  /** Merges one entry (gossip, push-pull, tests); true when it changed the registry. */
  merge(entry: RegistryEntry): boolean {
    if (entry.lamport > this.lamportBound()) {
      this.refusedAhead += 1;
      return false;
    }
    if (entry.lamport > this.lamport) this.lamport = entry.lamport;
    const current = this.slots.get(entry.name);
    if (current && mergeEntries(current, entry) === current) return false;
    if (entry.writer === this.nodeId) {
      this.refute(entry.name, current);
      return false;
    }
    if (!current && !this.makeRoom(false)) {
      this.refusedFull += 1;
      return false;
    }
    this.set({ name: entry.name, lamport: entry.lamport, writer: entry.writer, record: entry.record && copyRecord(entry.record) }, current);
    return true;
  }

  /**
   * The push-pull state: every entry, or when they exceed `maxBytes`, as many as fit starting where the
   * previous state stopped, so successive push-pulls repair the whole registry in turn.
   */
  localState(maxBytes: number): Uint8Array {
    const slots = [...this.slots.values()];
    const parts: Uint8Array[] = [];
    let size = STATE_OVERHEAD_BYTES;
    const start = slots.length > 0 ? this.stateCursor % slots.length : 0;
    let i = 0;
    for (; i < slots.length; i++) {
      const slot = slots[(start + i) % slots.length];
      slot.encoded ??= encodeEntry(slot);
      if (size + slot.encoded.length > maxBytes) break;
      size += slot.encoded.length;
      parts.push(slot.encoded);
    }
    this.stateCursor = i < slots.length ? start + i : 0;
    return encodeState(parts);
  }

  /** Forgets tombstones older than the TTL; returns how many. */
  collectGarbage(): number {
    const cutoff = this.options.now() - this.options.tombstoneTtlMs;
    let removed = 0;
    for (const [name, slot] of this.slots) {
      if (slot.record === null && slot.changedAt <= cutoff) {
        this.slots.delete(name);
        this.tombstones -= 1;
        removed += 1;
      }
    }
    return removed;
  }

  /** The largest Lamport time a peer's write may carry now (LAMPORT_TICKS_PER_MS). */
  private lamportBound(): number {
    const ms = Math.max(this.options.wallClock?.() ?? Date.now(), LAMPORT_CLOCK_FLOOR_MS);
    return Math.min(ms * LAMPORT_TICKS_PER_MS, Number.MAX_SAFE_INTEGER);
  }

  private refute(name: string, current: Slot | undefined): void {
    this.refuted += 1;
    const record = this.own.get(name) ?? (current && current.writer !== this.nodeId ? current.record : null);
    if (!current && !this.makeRoom(true)) return;
    this.write(name, record);
  }

  /** A write of this node: a fresh Lamport time, applied here and handed to the gossip. */
  private write(name: string, record: AgentRecord | null): void {
    this.lamport += 1;
    const slot = this.set({ name, lamport: this.lamport, writer: this.nodeId, record }, this.slots.get(name));
    slot.encoded = encodeEntry(slot);
    try {
      this.spread?.(slot, updateOf(slot.encoded));
    } catch {
      /* the gossip binding logs its own failures; the write stands and push-pull spreads it */
    }
  }

  private set(entry: RegistryEntry, previousSlot: Slot | undefined): Slot {
    const slot: Slot = { ...entry, changedAt: this.options.now() };
    this.slots.set(entry.name, slot);
    const previous = previousSlot?.record ?? undefined;
    if (previousSlot && previousSlot.record === null) this.tombstones -= 1;
    if (entry.record === null) this.tombstones += 1;
    if (previous) this.countNode(previous.node, -1);
    if (entry.record) this.countNode(entry.record.node, 1);
    const current = entry.record ?? undefined;
    if (!sameRecord(current, previous)) {
      for (const listener of this.listeners) {
        try {
          listener(entry.name, current && copyRecord(current), previous && copyRecord(previous));
        } catch {
          /* a listener's failure must not stop the merge (it logs its own errors) */
        }
      }
    }
    return slot;
  }

  private countNode(node: string, delta: number): void {
    const n = (this.perNode.get(node) ?? 0) + delta;
    if (n > 0) this.perNode.set(node, n);
    else this.perNode.delete(node);
  }

  /** True when a new name fits: expired tombstones go first, then the oldest tombstone. */
  private makeRoom(local: boolean): boolean {
    if (this.slots.size < this.options.maxRecords) return true;
    this.collectGarbage();
    if (this.slots.size < this.options.maxRecords) return true;
    let oldest: Slot | undefined;
    for (const slot of this.slots.values()) if (slot.record === null && (!oldest || slot.changedAt < oldest.changedAt)) oldest = slot;
    if (oldest) {
      this.slots.delete(oldest.name);
      this.tombstones -= 1;
      return true;
    }
    if (local) throw new CaxtonError('UNAVAILABLE', `the agent registry holds its maximum of ${this.options.maxRecords} records (registry.max_records)`);
    return false;
  }
}
