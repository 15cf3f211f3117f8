// One name's slot in the last-writer-wins map: the record (or a tombstone) and the version that orders it.
// Order is (lamport, writer): the higher Lamport time wins, the writer's node id breaks ties, so every node
// picks the same winner whatever the order in which it hears the updates (see test/cluster/registry).
import { sameRecord, type AgentRecord } from './agent-record.ts';

export interface RegistryEntry {
  name: string;
  /** Lamport time of the write. */
  lamport: number;
  /** The node that wrote it (the node running the agent, or the one that deleted it). */
  writer: string;
  /** null: a tombstone, the agent was deleted. */
  record: AgentRecord | null;
}

/** > 0 when a is newer than b, < 0 when older, 0 for the same write. */
export function compareEntries(a: Pick<RegistryEntry, 'lamport' | 'writer'>, b: Pick<RegistryEntry, 'lamport' | 'writer'>): number {
  if (a.lamport !== b.lamport) return a.lamport > b.lamport ? 1 : -1;
  if (a.writer !== b.writer) return a.writer > b.writer ? 1 : -1;
  return 0;
}

/** The winner of two writes of the same name: commutative, associative and idempotent. */
export function mergeEntries(a: RegistryEntry, b: RegistryEntry): RegistryEntry {
  const order = compareEntries(a, b);
  if (order !== 0) return order > 0 ? a : b;
  // The same (lamport, writer) twice is the same write; should a buggy peer send two different ones,
  // a fixed rule (the tombstone, then the smaller encoding) keeps every node on the same choice.
  if (sameRecord(a.record ?? undefined, b.record ?? undefined)) return a;
  if (a.record === null) return a;
  if (b.record === null) return b;
  return JSON.stringify(a.record) <= JSON.stringify(b.record) ? a : b;
}
