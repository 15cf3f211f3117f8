// The options a node's failover is built with, and what its parts (deletions, take-overs, yields, standby
// modules, catch-ups) share: the names busy now, the counters, the warning budget. Apart so that each part
// imports these without importing the class that composes the parts (failover.ts, which re-exports the
// option types for its importers).
import type { QuorumView } from '../cluster/quorum.ts';
import type { AgentRegistry } from '../cluster/registry/agent-registry.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentService } from './agent-service.ts';
import type { EventBus } from './event-bus.ts';
import type { ObservedAgentDirectory } from './registry-binding.ts';
import type { AgentSpec } from './services.ts';

export interface FailoverSettings {
  checkIntervalMs: number;
  standbyModuleBytes: number;
  takeOverConcurrency: number;
  moduleFetchTimeoutMs: number;
}

/** A member as failover needs it. */
export interface FailoverMember {
  id: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  /** Can run agents: a Caxton node with routing (or this node). */
  placeable: boolean;
}

export interface FailoverOptions {
  nodeId: string;
  registry: AgentRegistry;
  members: () => FailoverMember[];
  quorum: () => QuorumView;
  agents: AgentService;
  runsHere: (name: string) => boolean;
  /** Names of the agents this node runs. */
  localNames: () => string[];
  directory: ObservedAgentDirectory;
  modules: { get(sha256: string): Uint8Array | undefined; has(sha256: string): boolean };
  /** The module's bytes from a peer (module.get over the routing link); throws when it has none. */
  fetchModule: (node: string, sha256: string, timeoutMs: number) => Promise<Uint8Array>;
  /** Instruments and compiles a standby module ahead of a take-over (AgentRuntime.prepareModule). */
  prepareModule?: (sha256: string, bytes: Uint8Array, memoryPages: number) => Promise<void>;
  /** A round trip to a peer (failover.ping over the routing link): resolves true when it answered in time. */
  ping: (node: string, timeoutMs: number) => Promise<boolean>;
  /** Publishes this node's record of a local agent again. */
  republish: (name: string) => void;
  /**
   * True when `node` answers, within `timeoutMs`, that it runs `name` itself (agent.get over the routing
   * link). A copy yields only to a keeper that says so: the registry record naming the keeper is anyone's
   * word while gossip is unencrypted, and a stale one after a crash. Absent: the record is believed.
   */
  keeperRuns?: (node: string, name: string, timeoutMs: number) => Promise<boolean>;
  /**
   * Asks `writer` (registry.write over the routing link) whether it made the deletion of `name` at Lamport
   * time `lamport` this node holds: `confirmed` (or a writer of a version without the method), `refuted`
   * (it holds no such write), `unknown` (no answer now: asked again at the next check). An agent running
   * here is deleted for a deletion by another node only once its writer confirms it: a tombstone is anyone's
   * word while gossip is unencrypted (one 30-byte datagram per agent deleted every agent of a node). Absent:
   * the tombstone is believed.
   */
  confirmDeletion?: (writer: string, name: string, lamport: number, timeoutMs: number) => Promise<'confirmed' | 'refuted' | 'unknown'>;
  /**
   * The spec as this node accepts it at deploy (its agents.max_fuel and max_memory_pages, the mailbox bound,
   * the names its system agents keep); throws INVALID_ARGUMENT otherwise. A registry record is anyone's word
   * while gossip is unencrypted, and a peer's otherwise: it is not taken over past this node's own bounds.
   */
  checkSpec?: (spec: AgentSpec) => AgentSpec;
  /**
   * Hands registry update payloads to a peer (failover.entries over the routing link), which merges them as
   * if gossiped; rejects when the peer did not take them. Absent: a member back from gone learns this node's
   * writes by gossip and push-pull only.
   */
  pushEntries?: (node: string, entries: Uint8Array[], timeoutMs: number) => Promise<void>;
  events: EventBus;
  settings: FailoverSettings;
  logger: Logger;
  now?: () => number;
}

export interface FailoverStats {
  takenOver: number;
  yielded: number;
  reclaimed: number;
  takeOverFailures: number;
  standbyModules: number;
  standbyBytes: number;
}

/** What the failover hands each of its parts. */
export interface FailoverContext {
  readonly options: FailoverOptions;
  /** options.now, or Date.now. */
  readonly now: () => number;
  /**
   * Names being taken over, yielded, reclaimed or deleted here now: one action per name at a time. The plan
   * counts them as running here, so it does not order a second action for a name while the first runs.
   */
  readonly busy: Set<string>;
  /** The counters each part adds to (the standby figures are the modules part's, read at `stats`). */
  readonly stats: FailoverStats;
  /** A warning a peer's writes can cause at will: within a budget, the lines held back counted in the next. */
  warn(data: Record<string, unknown>, message: string): void;
  /** True once the failover is closed: an answer that arrives after it changes nothing. */
  closed(): boolean;
}
