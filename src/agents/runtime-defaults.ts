// Every default of the agent runtime in one place, each with the reason for its value.
import { TRAP_WINDOW_MS, TRAPS_BEFORE_FAILED } from './abi.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../messaging/message.ts';
import { FUEL_SLICE } from './metering/fuel-meter.ts';

export const RUNTIME_DEFAULTS = {
  /** agent-abi.md: 5 traps within 60 s and the agent is `failed`. */
  maxTraps: TRAPS_BEFORE_FAILED,
  trapWindowMs: TRAP_WINDOW_MS,
  /**
   * Memory limit (pages) a module is compiled for when the caller names none: the agents.memory_pages
   * default (agent-abi.md, 16 MiB), so a module loaded ahead of a deploy is already compiled for it.
   */
  memoryPages: 256,
  /**
   * Live instances per node before the oldest idle ones are shut down: V8 reserves ~10 GiB of address space
   * per wasm memory and a process fails near 13,000 (see docs/operations.md, Limits); 10,000 leaves margin.
   */
  maxLiveInstances: 10_000,
  /**
   * Memories of evicted instances kept for the next instance of their module. Past the cap each instantiation
   * evicts one instance, so steady churn needs one spare per module churning; 64 covers many modules at once
   * and adds under 1% to the address space that maxLiveInstances budgets.
   */
  spareMemories: 64,
  /**
   * Entries of all of a module's tables together, declared or grown to (table.grow is one instruction): ~30 B
   * each measured, so ~3 MB per instance at most. Toolchains emit one table of a few thousand function
   * pointers; 10,000,000 (V8's own bound) grown in one invocation cost 300 MB.
   */
  maxTableElements: 100_000,
  /** Fuel per invocation when the caller names none: the agent-abi.md default. */
  fuel: 10_000_000,
  /** Wall-clock bound of one invocation (config agents.max_invocation_ms): the node answers nothing meanwhile. */
  maxInvocationMs: 1_000,
  /** Sends per second per agent (config agents.send_rate) and the burst above it (agents.send_burst). */
  sendRate: 500_000,
  sendBurst: 50_000,
  /** A message crossing the ABI: the size limit of a whole message in messages.md (1 MiB). */
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  /** Sends of one invocation: a fan-out larger than this is a runaway loop, not a protocol (-3 beyond). */
  maxOutboxPerInvocation: 1_000,
  /** Pending timers per instance: enough for per-conversation deadlines, small enough to bound memory. */
  maxTimersPerAgent: 1_000,
  /** Tool calls in flight per agent: each holds a gateway request, so the bound protects the MCP servers. */
  maxPendingToolCalls: 100,
  /** Log lines kept per agent for `agent logs`: a page or two of context at ~200 B each (~100 KiB). */
  logRingSize: 500,
  /**
   * Log lines per second per agent (agents.log_rate) and the burst above it (agents.log_burst); lines past it
   * are dropped and counted, and the next line kept says how many. Every line of an agent on a worker thread is
   * posted to the main thread: one agent logging in a timer loop pushed 223,000 lines/s there (lagging it
   * 126 ms) for a ring that keeps 500. Four rings' worth at once, two a second after that.
   */
  logRate: 1_000,
  logBurst: 2_000,
  /** A single log line is cut here: one runaway printf must not fill the ring with one line. */
  maxLogLineChars: 8_192,
  /** Invocations per scheduler turn before yielding to I/O: ~1-5 ms of small handlers. */
  invocationsPerTurn: 2_048,
  /** Time budget of one scheduler turn: keeps sockets and timers served under sustained load. */
  turnBudgetMs: 8,
  /** Items one agent handles before the next ready agent gets a turn: fairness between busy agents. */
  itemsPerAgentVisit: 32,
  /** Sends one agent makes before the next ready agent gets a turn: one full outbox (maxOutboxPerInvocation). */
  sendsPerAgentVisit: 1_000,
  /**
   * Fuel one agent burns before the next ready agent gets a turn: 8 slices of the fuel meter (FUEL_SLICE),
   * ~3–8 ms of agent code, about one turn's time budget. Counted in whole invocations: a visit ends after the
   * invocation that passes it.
   */
  fuelPerAgentVisit: 8 * FUEL_SLICE,
} as const;

export type RuntimeLimits = {
  /** agent-abi.md: this many traps within trapWindowMs and the agent is `failed` (5 in 60 s by default). */
  maxTraps: number;
  trapWindowMs: number;
  maxMessageBytes: number;
  maxOutboxPerInvocation: number;
  maxTimersPerAgent: number;
  maxPendingToolCalls: number;
  maxLogLineChars: number;
  maxInvocationMs: number;
  /** Token bucket of each agent's sends: send_message returns -3 (QUOTA_EXCEEDED) when it is empty. */
  sendRate: number;
  sendBurst: number;
  /** Token bucket of each agent's log lines: lines past it are dropped, then counted in one line. */
  logRate: number;
  logBurst: number;
};
