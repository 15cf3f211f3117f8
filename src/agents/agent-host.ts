// What the node asks of whatever runs its agents: the in-thread AgentRuntime, or the pool of worker threads
// (workers/agent-worker-pool.ts) that runs one AgentRuntime per worker. The node, the agent service and the
// routing binding see only this, so `agents.workers` picks one without any of them knowing which.
import type { LocalAgents } from '../messaging/delivery.ts';
import type { AclMessage } from '../messaging/message.ts';
import type { ModuleCache } from './module-cache.ts';
import type { AgentInfo, AgentLogLine, AgentSpec, AgentState, AgentStats } from './agent-types.ts';

export interface AgentHost extends LocalAgents {
  /** Compiled modules by sha256 (the pool compiles here, on the main thread, and posts them to workers). */
  readonly cache: ModuleCache;
  start(spec: AgentSpec, sha256: string, version: number, moduleBytes?: Uint8Array): Promise<AgentInfo>;
  upgrade(spec: AgentSpec, sha256: string, version: number, moduleBytes?: Uint8Array): Promise<AgentInfo>;
  stop(name: string): Promise<void>;
  remove(name: string): Promise<void>;
  shutdown(): Promise<void>;
  info(name: string): AgentInfo;
  list(): AgentInfo[];
  state(name: string): AgentState | undefined;
  stats(name: string): AgentStats;
  logs(name: string, afterSeq?: number, limit?: number): AgentLogLine[];
  followLogs(name: string, listener: (line: AgentLogLine) => void): () => void;
  whenIdle(): Promise<void>;
  /** Validates, instruments and compiles a module ahead of any agent using it (failover's standby modules). */
  prepareModule(sha256: string, bytes: Uint8Array, memoryPages: number): Promise<void>;
  /**
   * Takes an agent out at once for a hand-over to another node (drain): its queued messages, in arrival
   * order, for the caller to forward. The in-thread runtime returns them; the worker pool returns them when
   * prepareRelease has resolved first (else none: it routes them again once its worker gives them back).
   */
  release(name: string): AclMessage[];
  /**
   * For a host whose agents run on other threads: stops the agent there and brings its queued messages to
   * this thread, holding what arrives for it meanwhile, so that release() then hands all over at once, in
   * order. Never rejects. Absent on the in-thread runtime, whose release is synchronous already.
   */
  prepareRelease?(name: string): Promise<void>;
  /** Per-thread figures (/metrics, cluster performance); one entry, thread "main", for the in-thread runtime. */
  threadFigures(): AgentThreadFigures[];
}

export interface AgentThreadFigures {
  /** "main", or "worker-<index>". */
  thread: string;
  agents: number;
  /** Messages handed to the thread's agents from other threads, and sent by them to other threads. */
  messages_in: number;
  messages_out: number;
  /** Messages between two agents of the thread that never left it. */
  messages_local: number;
  /** Messages agents of other workers sent straight to the thread's agents (direct channel), taken here. */
  messages_direct?: number;
  /** Times the thread was replaced (stuck past agents.worker_stall_ms, or crashed). */
  restarts: number;
  /** Resident set of the whole process is shared; this is the thread's V8 heap in use (bytes), 0 if unknown. */
  heap_used_bytes: number;
}
