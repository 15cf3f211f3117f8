// What one node must do about agent ownership after the membership or the registry changed (cluster.md
// "Placement and failover", "Partitions"): a pure decision over what this node knows, so the real node
// (src/node/failover.ts) and the simulator (src/cluster/sim/failover-sim.ts) run the same rules. Every node
// computes the same answers from the same inputs, so no coordinator is needed:
//  - an agent whose node is declared dead or left starts on the rendezvous owner among the alive members,
//    only on a side with quorum, and only when its failover policy is `move`;
//  - an agent running on two alive nodes (after a partition heals, or a crashed node came back) keeps
//    running only on its keeper: its pin when that is one of the two, else the rendezvous owner of the two.
//    Rendezvous over a pair agrees with rendezvous over any larger set holding both, so three copies
//    converge pairwise to the same one;
//  - an agent this node runs whose registry record names a dead node is claimed by this node, on the same
//    terms as a take-over (a side with quorum, confirmed): a node cut off, or one that has not yet noticed
//    the other side is back, never overwrites the other side's record on the strength of its own view. Its
//    copy keeps serving here meanwhile, and the keeper rule settles it once both nodes see each other.
// Every decision about two copies is thus made from the pair alone, which both nodes see alike once they
// see each other alive; the registry's last-writer-wins order (Lamport time, then writer) makes every node
// see the same record, so the one that is not the keeper always yields.
import type { AgentRecord } from '../registry/agent-record.ts';
import { rendezvousOwner } from './rendezvous.ts';

export const FAILOVER_POLICIES = ['move', 'wait'] as const;
export type FailoverPolicy = (typeof FAILOVER_POLICIES)[number];

export interface FailoverInput {
  self: string;
  /** The quorum mode of this node's side: a read-only side takes over nothing. */
  mode: 'read-write' | 'read-only';
  /** Placement candidates: alive members that can run agents, this node included. */
  alive: readonly string[];
  /** True for a node declared dead or left (a suspect node is still alive for this purpose). */
  gone(node: string): boolean;
  /** Every record of the registry. */
  records: Iterable<AgentRecord>;
  /** True when this node runs the agent now (or is starting it). */
  runsHere(name: string): boolean;
}

export type FailoverAction =
  /** Start the agent here from its registry record: this node is its new owner. */
  | { kind: 'take-over'; record: AgentRecord; from: string }
  /** Another alive node runs it too and keeps it: stop the copy here, without deleting the agent. */
  | { kind: 'yield'; name: string; keeper: string }
  /** This node runs it and keeps it, but the registry names another node: publish this node's record again. */
  | { kind: 'reclaim'; name: string; other: string }
  /**
   * This node runs it and the registry names a node declared dead or left: publish this node as its owner.
   * Like a take-over, only on a side with quorum and after a confirmation round.
   */
  | { kind: 'claim'; name: string; other: string };

/** The actions that need a confirmed quorum before they are carried out. */
export function needsConfirmation(action: FailoverAction): boolean {
  return action.kind === 'take-over' || action.kind === 'claim';
}

/**
 * Before it takes anything over, a node confirms its side: a quorum of members (itself included) must
 * answer a round trip it starts after making the plan. Its membership view alone is not enough: behind a
 * one-way cut a node still hears the other side's gossip and may count members alive that its own packets
 * no longer reach (found by the simulator's one-way schedules). A round trip needs both directions.
 */
export function quorumConfirmed(answered: number, quorum: number): boolean {
  return answered + 1 >= quorum;
}

/**
 * The mode a take-over decision uses: the quorum's, and stricter. A partition is detected one member at a
 * time, so the minority side first sees one node of the other side dead while it still counts the others
 * alive (4 of 5: a quorum). Those others are suspect by then (probes reach every member within a few
 * rounds, and the first death takes a full suspicion timeout), so counting only members not under
 * suspicion keeps a minority from taking anything over; on the majority side a take-over held back by an
 * unrelated suspicion happens at the next check.
 */
export function takeOverMode(quorum: { mode: 'read-write' | 'read-only'; quorum: number }, aliveNotSuspect: number): 'read-write' | 'read-only' {
  return quorum.mode === 'read-write' && aliveNotSuspect >= quorum.quorum ? 'read-write' : 'read-only';
}

/** The spec's policy, or the default: `move` for an unpinned agent, `wait` for a pinned one. */
export function failoverPolicyOf(record: Pick<AgentRecord, 'pinned' | 'failover'>): FailoverPolicy {
  return record.failover ?? (record.pinned === undefined ? 'move' : 'wait');
}

/** Which of two alive nodes running the same agent keeps it. */
export function keeperOf(record: Pick<AgentRecord, 'name' | 'pinned'>, a: string, b: string): string {
  if (record.pinned === a || record.pinned === b) return record.pinned;
  return rendezvousOwner(record.name, [a, b]) as string;
}

/** The new owner of an agent whose node is gone, or undefined when it waits (or nobody is alive). */
export function ownerAfterLoss(record: AgentRecord, alive: readonly string[]): string | undefined {
  if (failoverPolicyOf(record) === 'wait') return undefined;
  if (record.pinned !== undefined && alive.includes(record.pinned)) return record.pinned;
  return rendezvousOwner(record.name, alive);
}

export function planFailover(input: FailoverInput): FailoverAction[] {
  const { self, alive } = input;
  const actions: FailoverAction[] = [];
  for (const record of input.records) {
    if (record.node === self) continue;
    const here = input.runsHere(record.name);
    if (input.gone(record.node)) {
      if (input.mode !== 'read-write') continue;
      if (here) actions.push({ kind: 'claim', name: record.name, other: record.node });
      else if (ownerAfterLoss(record, alive) === self) actions.push({ kind: 'take-over', record, from: record.node });
      continue;
    }
    if (!here) continue;
    const keeper = keeperOf(record, self, record.node);
    actions.push(keeper === self ? { kind: 'reclaim', name: record.name, other: record.node } : { kind: 'yield', name: record.name, keeper });
  }
  return actions;
}

/**
 * Modules this node should hold ahead of a failure: those of agents on other alive nodes that it would take
 * over if that node died (the rendezvous owner among the alive members without it), and those of agents of
 * a node already gone that it is to take over (until it has). A dead node's module bytes are gone with it,
 * so the standby fetches them while the owner can still serve them.
 */
export function standbyModules(self: string, alive: readonly string[], records: Iterable<AgentRecord>): Set<string> {
  const out = new Set<string>();
  for (const record of records) {
    if (record.node === self) continue;
    const owner = alive.includes(record.node) ? ownerAfterLoss(record, alive.filter((n) => n !== record.node)) : ownerAfterLoss(record, alive);
    if (owner === self) out.add(record.module_sha256);
  }
  return out;
}
