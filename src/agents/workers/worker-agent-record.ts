// The main thread's record of one agent run by a worker: which worker, its spec, its last reported figures
// and its log lines, so that queries are answered here without asking a worker.
import type { AclMessage } from '../../messaging/message.ts';
import type { AgentInfo, AgentSpec, AgentState, AgentStats } from '../agent-types.ts';
import type { LogRing } from '../log-ring.ts';
import { FIGURE, FIGURE_FIELDS, FIGURE_PAGE_BITS } from './worker-protocol.ts';
import type { WorkerHandle } from './worker-handle.ts';

export interface AgentRecord {
  readonly name: string;
  worker: WorkerHandle;
  spec: AgentSpec;
  sha256: string;
  version: number;
  state: AgentState;
  /** The figures the worker last posted: its start's, then traps and last error when they change. */
  stats: AgentStats;
  /** Where its worker writes its counters (figure pages); undefined until the worker said. */
  slot?: number;
  updatedAt: string;
  readonly logs: LogRing;
  /** Messages the main thread handed over and no mailbox took yet: bounded by spec.limits.mailbox. */
  pending: number;
  stopping: boolean;
  /** Being started again on a replacement worker: messages are refused (AGENT_UNAVAILABLE) meanwhile. */
  restarting: boolean;
  /** What the agent should be after a worker restart. */
  wanted: 'running' | 'stopped';
  /**
   * Set by prepareRelease: the messages a hand-over forwards, in order — the worker's mailbox once it gave it
   * back, then whatever arrived here meanwhile (delivered here, never to the worker).
   */
  held?: AclMessage[];
  /** The worker's answer to prepareRelease, once asked. */
  releasing?: Promise<void>;
  /** The state change of the release on the worker, reported when release() is called. */
  releasedState?: { from: AgentState | null; to: AgentState };
  readonly createdAt: string;
}

export function emptyStats(): AgentStats {
  return { invocations: 0, traps: 0, traps_by_reason: {}, fuel_used: 0, memory_pages: 0, messages_in: 0, messages_out: 0, mailbox_depth: 0, last_error: null };
}

/** The last posted figures with the counters its worker wrote since (a copy). */
function counters(record: AgentRecord): AgentStats {
  const stats = record.stats;
  const slot = record.slot;
  const cells = slot === undefined ? undefined : record.worker.figurePages[slot >>> FIGURE_PAGE_BITS];
  if (cells === undefined) return stats;
  const at = (slot! & ((1 << FIGURE_PAGE_BITS) - 1)) * FIGURE_FIELDS;
  return {
    ...stats,
    invocations: cells[at + FIGURE.invocations],
    traps: cells[at + FIGURE.traps],
    fuel_used: cells[at + FIGURE.fuel_used],
    memory_pages: cells[at + FIGURE.memory_pages],
    messages_in: cells[at + FIGURE.messages_in],
    messages_out: cells[at + FIGURE.messages_out],
    mailbox_depth: cells[at + FIGURE.local_mailbox_depth],
  };
}

/** The agent as a query shows it, answered from the record alone. */
export function infoOf(record: AgentRecord, nodeId: string): AgentInfo {
  return {
    name: record.name,
    node: nodeId,
    state: record.state,
    version: record.version,
    capabilities: record.spec.capabilities,
    module_sha256: record.sha256,
    tools: record.spec.tools,
    limits: record.spec.limits,
    created_at: record.createdAt,
    updated_at: record.updatedAt || record.createdAt,
    stats: statsOf(record),
  };
}

/** The figures a query shows: the worker's counters and what waits for the agent outside its worker. */
export function statsOf(record: AgentRecord): AgentStats {
  const stats = counters(record);
  // Waiting: what the main thread handed over and no mailbox took yet (on its way, or queued on the worker),
  // plus sends between agents of the worker queued there (the worker reports only those), plus what a
  // hand-over holds here.
  const mailboxDepth = stats.mailbox_depth + record.pending + (record.held?.length ?? 0);
  return { ...stats, traps_by_reason: { ...stats.traps_by_reason }, mailbox_depth: mailboxDepth };
}
