// What an agent is, as the runtime runs it and every layer above shows it: its spec, limits, state, figures
// and log lines. These types live with the agents layer so the runtime and the store need nothing from the
// node above them; src/node/services.ts re-exports them for the API.
export type AgentState = 'deploying' | 'running' | 'draining' | 'stopped' | 'failed';

export interface AgentLimits {
  /** Linear memory ceiling in 64 KiB pages. */
  memory_pages: number;
  /** Instruction budget of one invocation. */
  fuel: number;
  /** Messages that may wait for the agent before senders get MAILBOX_FULL. */
  mailbox: number;
}

/** Tool grants: server name → the tool names the agent may call, or '*' for all of them. */
export type ToolGrants = Record<string, string[] | '*'>;

/** The spec as a client writes it: everything but the name is optional and takes defaults. */
export interface AgentSpecInput {
  name: string;
  capabilities?: string[];
  tools?: ToolGrants;
  limits?: Partial<AgentLimits>;
  node?: string;
  /** When its node dies: `move` to the new owner or `wait` for the node (default: move unpinned, wait pinned). */
  failover?: 'move' | 'wait';
}

/** The spec after defaults: what is stored and what the runtime enforces. */
export interface AgentSpec {
  name: string;
  capabilities: string[];
  tools: ToolGrants;
  limits: AgentLimits;
  node?: string;
  /** Only when the deployer named it; absent means the default for its pin. */
  failover?: 'move' | 'wait';
}

export interface AgentStats {
  invocations: number;
  traps: number;
  /** Traps by reason (fuel_exhausted, memory_exhausted, unreachable, out_of_bounds_memory, ...). */
  traps_by_reason: Record<string, number>;
  /** Fuel used by all invocations of the agent so far (instructions charged by the metering). */
  fuel_used: number;
  /** Current size of the live instance's memory in 64 KiB pages; 0 when no instance is live. */
  memory_pages: number;
  messages_in: number;
  messages_out: number;
  mailbox_depth: number;
  last_error: string | null;
}

export interface AgentInfo {
  name: string;
  node: string;
  state: AgentState;
  version: number;
  capabilities: string[];
  module_sha256: string;
  tools: ToolGrants;
  limits: AgentLimits;
  created_at: string;
  updated_at: string;
  stats: AgentStats;
}

export interface AgentLogLine {
  seq: number;
  ts: string;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  agent: string;
  message: string;
}
