// The agents of this node: their lifecycle, mailboxes and the scheduler that runs them. Every invocation
// is synchronous on this thread, one per agent at a time; agents with work wait in a ready queue drained
// in bounded turns on setImmediate so sockets and timers are still served under load. An invocation's
// sends and tool calls take effect only if it ends without a trap.
import { CaxtonError } from '../errors.ts';
import type { DeliveryOutcome, MessageSink } from '../messaging/delivery.ts';
import type { AclMessage } from '../messaging/message.ts';
import type { AgentHost, AgentThreadFigures } from './agent-host.ts';
import type { AgentInfo, AgentLogLine, AgentSpec, AgentState, AgentStats } from './agent-types.ts';
import type { AgentInstance } from './agent-instance.ts';
import type { Clock, MailboxItem, SlotOwner } from './agent-slot.ts';
import { AgentSlot, FiredTimer } from './agent-slot.ts';
import type { AgentLogLevel, InstanceHost, TimerScheduler } from './host-imports.ts';
import { realTimers } from './host-imports.ts';
import { Invoker } from './invoker.ts';
import { LiveInstances } from './live-instances.ts';
import type { CompiledAgentModule } from './module-cache.ts';
import { ModuleCache, sha256Hex } from './module-cache.ts';
import { checkMemoryLimit } from './module-validator.ts';
import { ReadyScheduler } from './ready-scheduler.ts';
import type { RuntimeLimits } from './runtime-defaults.ts';
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts';
import type { RuntimeLogger, RuntimeObserver } from './runtime-observer.ts';
import { guardedObserver } from './runtime-observer.ts';
import { SpareMemories } from './spare-memories.ts';
import { StartFailure } from './start-failure.ts';
import { ToolCalls } from './tool-calls.ts';
import type { InvocationTracer } from './invocation-tracer.ts';
import { FUEL_SLICE } from './metering/fuel-meter.ts';
import type { ToolGateway } from './tool-gateway.ts';
import { unavailableToolGateway } from './tool-gateway.ts';

export type { RuntimeLogger, RuntimeObserver } from './runtime-observer.ts';
export type { ToolGateway } from './tool-gateway.ts';

export interface AgentRuntimeOptions {
  /** This node's id, reported in AgentInfo.node. */
  nodeId: string;
  /** Where committed sends and host-made failures go (the router). */
  sink: MessageSink;
  clock?: Clock;
  logger?: RuntimeLogger;
  toolGateway?: ToolGateway;
  observer?: Partial<RuntimeObserver>;
  /** Shared between runtimes in tests; one per node otherwise. */
  cache?: ModuleCache;
  timers?: TimerScheduler;
  limits?: Partial<RuntimeLimits>;
  logRingSize?: number;
  /** Live instances before the oldest idle ones are evicted (RUNTIME_DEFAULTS.maxLiveInstances). */
  maxLiveInstances?: number;
  /**
   * Told when a message leaves an agent's mailbox (handled, or answered because the agent cannot): an agent
   * worker uses it to know which messages the main thread must answer if the worker dies.
   */
  onTaken?: (message: AclMessage, agent: string) => void;
  /** Marks each invocation's start and end, for a watchdog on another thread (agent workers). */
  invocationMarks?: InvocationMarks;
  /** Spans of invocations and tool calls; absent when tracing is off. */
  tracer?: InvocationTracer;
}

/** Begin and end of each invocation: two stores, no clock read, so the in-thread cost is nil when absent. */
export interface InvocationMarks {
  begin(): void;
  end(): void;
}

const silentLogger: RuntimeLogger = { info() {}, warn() {}, error() {} };

export class AgentRuntime implements AgentHost, SlotOwner {
  readonly cache: ModuleCache;
  readonly clock: Clock;
  readonly limits: RuntimeLimits;
  readonly timers: TimerScheduler;
  private readonly nodeId: string;
  private readonly sink: MessageSink;
  private readonly logger: RuntimeLogger;
  private readonly observer: RuntimeObserver;
  private readonly tools: ToolCalls;
  private readonly logRingSize: number;
  private readonly agents = new Map<string, AgentSlot>();
  private readonly scheduler: ReadyScheduler;
  private readonly invoker: Invoker;
  /** Live instances under a cap; agents without one are instantiated on their next message. */
  readonly live: LiveInstances;
  /** Memories of evicted instances, handed to the next instances of their modules. */
  readonly memories = new SpareMemories(RUNTIME_DEFAULTS.spareMemories);
  /** Modules whose agent_init has succeeded once: further agents of them start lazily, on first message. */
  private readonly proven = new WeakSet<CompiledAgentModule>();
  private closed = false;
  private readonly onTaken: ((message: AclMessage, agent: string) => void) | undefined;
  private readonly marks: InvocationMarks | undefined;

  constructor(options: AgentRuntimeOptions) {
    this.nodeId = options.nodeId;
    this.sink = options.sink;
    this.clock = options.clock ?? { now: () => performance.timeOrigin + performance.now() };
    this.logger = options.logger ?? silentLogger;
    this.observer = guardedObserver(options.observer ?? {}, this.logger);
    this.cache = options.cache ?? new ModuleCache();
    this.timers = options.timers ?? realTimers;
    this.limits = {
      maxTraps: RUNTIME_DEFAULTS.maxTraps,
      trapWindowMs: RUNTIME_DEFAULTS.trapWindowMs,
      maxMessageBytes: RUNTIME_DEFAULTS.maxMessageBytes,
      maxOutboxPerInvocation: RUNTIME_DEFAULTS.maxOutboxPerInvocation,
      maxTimersPerAgent: RUNTIME_DEFAULTS.maxTimersPerAgent,
      maxPendingToolCalls: RUNTIME_DEFAULTS.maxPendingToolCalls,
      maxLogLineChars: RUNTIME_DEFAULTS.maxLogLineChars,
      maxInvocationMs: RUNTIME_DEFAULTS.maxInvocationMs,
      sendRate: RUNTIME_DEFAULTS.sendRate,
      sendBurst: RUNTIME_DEFAULTS.sendBurst,
      logRate: RUNTIME_DEFAULTS.logRate,
      logBurst: RUNTIME_DEFAULTS.logBurst,
      ...options.limits,
    };
    this.logRingSize = options.logRingSize ?? RUNTIME_DEFAULTS.logRingSize;
    this.onTaken = options.onTaken;
    this.marks = options.invocationMarks;
    this.tools = new ToolCalls(options.toolGateway ?? unavailableToolGateway, (slot, message) => {
      if (this.agents.get(slot.name) === slot && slot.acceptsMessages() && slot.state !== 'deploying') this.enqueue(slot, message);
      this.scheduler.checkIdle();
    }, (agent, server, tool, durationMs, outcome) => this.observer.onToolCall?.(agent, server, tool, durationMs, outcome), options.tracer);
    this.scheduler = new ReadyScheduler(
      (slot) => this.runSlot(slot),
      () => this.tools.inFlight > 0,
      (err, slot) => this.logger.error({ err, agent: slot.name }, 'agent runtime error while running an agent'),
    );
    this.invoker = new Invoker({
      limits: this.limits,
      observer: this.observer,
      logger: this.logger,
      clock: this.clock,
      sink: this.sink,
      tools: this.tools,
      appendLog: (slot, level, message) => this.appendLog(slot, level, message),
      failAgent: (slot) => this.fail(slot),
      instanceStarted: (slot) => this.live.started(slot),
      memories: this.memories,
      tracer: options.tracer,
    });
    this.live = new LiveInstances(options.maxLiveInstances ?? RUNTIME_DEFAULTS.maxLiveInstances, (slot) => {
      const instance = slot.instance;
      slot.instance = null;
      if (!instance) return;
      this.invoker.runShutdown(slot, instance);
      this.memories.give(instance.compiled, instance.memory);
    });
  }

  // ---- LocalAgents (the router's view) ----

  has(name: string): boolean {
    return this.agents.has(name);
  }

  deliver(message: AclMessage, to: string): DeliveryOutcome {
    const slot = this.agents.get(to);
    if (slot === undefined) return 'not_found';
    if (this.closed || !slot.acceptsMessages()) return 'unavailable';
    if (slot.mailbox.length >= slot.spec.limits.mailbox) return 'mailbox_full';
    this.enqueue(slot, message);
    return 'queued';
  }

  // ---- lifecycle ----

  /**
   * Deploys an agent: loads (validates, compiles once per sha256) the module, checks the memory limit,
   * instantiates and runs agent_init. Throws CONFLICT (name taken), INVALID_MODULE (module refused or
   * agent_init failed/trapped, details.phase), INVALID_ARGUMENT (bytes do not match sha256).
   */
  async start(spec: AgentSpec, sha256: string, version: number, moduleBytes?: Uint8Array): Promise<AgentInfo> {
    if (this.closed) throw new CaxtonError('UNAVAILABLE', 'the agent runtime is shutting down');
    if (this.agents.has(spec.name)) throw new CaxtonError('CONFLICT', `agent "${spec.name}" already exists on this node`);
    const slot = new AgentSlot(this, spec, sha256, version, this.logRingSize);
    this.agents.set(spec.name, slot);
    this.observer.onStateChange(spec.name, null, 'deploying');
    try {
      const compiled = await this.loadModule(sha256, spec.limits.memory_pages, moduleBytes);
      checkMemoryLimit(compiled.inspection, spec.limits.memory_pages);
      if (this.agents.get(spec.name) !== slot || this.closed) throw new CaxtonError('CONFLICT', `agent "${spec.name}" was removed while deploying`);
      // A module already proven (its agent_init succeeded) starts lazily: deploying 100,000 agents of it
      // makes no instance until each gets a message.
      let instance: AgentInstance | null = null;
      if (!this.proven.has(compiled)) {
        this.marks?.begin();
        try {
          instance = this.invoker.startInstance(slot, compiled, spec);
        } finally {
          this.marks?.end();
        }
      }
      slot.compiled = compiled;
      slot.instance = instance;
      this.setState(slot, 'running');
      if (instance) {
        this.proven.add(compiled);
        this.live.started(slot);
        this.invoker.commit(slot, instance.host);
      }
      if (slot.hasWork()) this.scheduler.schedule(slot);
      return this.info(spec.name);
    } catch (err) {
      if (this.agents.get(spec.name) === slot) this.agents.delete(spec.name);
      this.failQueued(slot, `agent "${spec.name}" failed to deploy`);
      this.setState(slot, 'failed');
      throw err instanceof StartFailure ? err.toCaxtonError(spec.name) : err;
    }
  }

  /**
   * Replaces module and spec: the new instance is created and agent_init'ed first (on failure the old
   * version keeps running and this throws), then the old one gets agent_shutdown. The mailbox is kept.
   * Also restarts a failed or stopped agent.
   */
  async upgrade(spec: AgentSpec, sha256: string, version: number, moduleBytes?: Uint8Array): Promise<AgentInfo> {
    const slot = this.require(spec.name);
    const compiled = await this.loadModule(sha256, spec.limits.memory_pages, moduleBytes);
    checkMemoryLimit(compiled.inspection, spec.limits.memory_pages);
    if (this.agents.get(spec.name) !== slot || slot.stopping || slot.state === 'deploying' || this.closed) {
      throw new CaxtonError('CONFLICT', `agent "${spec.name}" is ${slot.stopping ? 'stopping' : slot.state}; retry the upgrade`);
    }
    const previous = slot.state;
    if (previous === 'running') this.setState(slot, 'draining');
    let fresh: AgentInstance;
    this.marks?.begin();
    try {
      fresh = this.invoker.startInstance(slot, compiled, spec);
    } catch (err) {
      if (previous === 'running') this.setState(slot, 'running');
      throw err instanceof StartFailure ? err.toCaxtonError(spec.name) : err;
    } finally {
      this.marks?.end();
    }
    const old = slot.instance;
    slot.instance = null;
    if (old) this.invoker.runShutdown(slot, old);
    const oldSha = slot.sha256;
    slot.instance = fresh;
    this.live.started(slot);
    slot.spec = spec;
    slot.compiled = compiled;
    slot.sha256 = sha256;
    slot.version = version;
    slot.trapTimes = [];
    slot.updatedAt = new Date(this.clock.now()).toISOString();
    this.setState(slot, 'running');
    this.invoker.commit(slot, fresh.host);
    if (slot.hasWork()) this.scheduler.schedule(slot);
    if (oldSha !== sha256) this.evictIfUnused(oldSha);
    return this.info(spec.name);
  }

  /** running → draining (queued messages are still handled, new ones refused) → agent_shutdown → stopped. */
  stop(name: string): Promise<void> {
    const slot = this.require(name);
    if (slot.state === 'stopped' || slot.state === 'failed') return Promise.resolve();
    if (slot.state === 'deploying') return Promise.reject(new CaxtonError('CONFLICT', `agent "${name}" is still deploying`));
    if (!slot.stopping) {
      slot.stopping = true;
      if (slot.state !== 'draining') this.setState(slot, 'draining');
    }
    return new Promise((resolve) => {
      slot.stopWaiters.push(resolve);
      this.scheduler.schedule(slot);
    });
  }

  /** Stops the agent (if running) and forgets it. */
  async remove(name: string): Promise<void> {
    const slot = this.require(name);
    if (slot.state !== 'deploying') await this.stop(name);
    if (this.agents.get(name) === slot) this.agents.delete(name);
    this.evictIfUnused(slot.sha256);
  }

  /**
   * Takes an agent out of this runtime at once, for a hand-over to another node: its instance gets
   * agent_shutdown, its timers die with it, and its queued messages are returned in arrival order for the
   * caller to forward (nothing is answered here). Synchronous, so no message slips in between.
   */
  release(name: string): AclMessage[] {
    const slot = this.require(name);
    const queued: AclMessage[] = [];
    for (const item of slot.mailbox.drain()) if (!(item instanceof FiredTimer)) queued.push(item);
    this.agents.delete(name);
    slot.stopping = true;
    const instance = slot.instance;
    slot.instance = null;
    if (instance) this.invoker.runShutdown(slot, instance);
    this.setState(slot, 'stopped');
    this.finishStopWaiters(slot);
    this.evictIfUnused(slot.sha256);
    return queued;
  }

  /** Refuses new work, stops every agent (agent_shutdown included), resolves when all are done. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.agents.values()].filter((s) => s.state !== 'deploying').map((s) => this.stop(s.name)));
  }

  // ---- queries ----

  info(name: string): AgentInfo {
    const slot = this.require(name);
    return {
      name: slot.name,
      node: this.nodeId,
      state: slot.state,
      version: slot.version,
      capabilities: slot.spec.capabilities,
      module_sha256: slot.sha256,
      tools: slot.spec.tools,
      limits: slot.spec.limits,
      created_at: slot.createdAt,
      updated_at: slot.updatedAt,
      stats: this.stats(name),
    };
  }

  list(): AgentInfo[] {
    return [...this.agents.keys()].map((name) => this.info(name));
  }

  state(name: string): AgentState | undefined {
    return this.agents.get(name)?.state;
  }

  stats(name: string): AgentStats {
    const slot = this.require(name);
    const memory = slot.instance?.host.bytes().length ?? 0;
    return { ...slot.stats, traps_by_reason: { ...slot.stats.traps_by_reason }, mailbox_depth: slot.mailbox.length, memory_pages: memory / 65_536 };
  }

  /**
   * The live figures of an agent, not a copy (stats() copies): for a caller that reads them out at once, as an
   * agent worker does into the memory the main thread reads. Undefined for an agent this runtime does not run.
   */
  counters(name: string): { stats: Readonly<AgentSlot['stats']>; mailboxDepth: number; memoryPages: number } | undefined {
    const slot = this.agents.get(name);
    if (slot === undefined) return undefined;
    return { stats: slot.stats, mailboxDepth: slot.mailbox.length, memoryPages: (slot.instance?.host.bytes().length ?? 0) / 65_536 };
  }

  /** Log lines with seq > afterSeq, oldest first. */
  logs(name: string, afterSeq = 0, limit = 100): AgentLogLine[] {
    return this.require(name).logs.after(afterSeq, limit);
  }

  /** Calls `listener` for each new log line; returns the unsubscribe function. */
  followLogs(name: string, listener: (line: AgentLogLine) => void): () => void {
    return this.require(name).logs.follow(listener);
  }

  threadFigures(): AgentThreadFigures[] {
    return [{ thread: 'main', agents: this.agents.size, messages_in: 0, messages_out: 0, messages_local: 0, restarts: 0, heap_used_bytes: 0 }];
  }

  /** Resolves once no agent has queued work and no tool call is in flight (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    return this.scheduler.whenIdle();
  }

  // ---- SlotOwner (called by instances through their host bindings) ----

  appendLog(slot: AgentSlot, level: AgentLogLevel, message: string): void {
    const line = slot.logs.append({ ts: new Date(this.clock.now()).toISOString(), level, agent: slot.name, message });
    this.observer.onLog(line);
  }

  permissionDenied(slot: AgentSlot, what: string): void {
    this.appendLog(slot, 'warn', `permission denied: ${what}`);
    this.logger.warn({ agent: slot.name, what }, 'agent permission denied');
    this.observer.onPermissionDenied(slot.name, what);
  }

  timerFired(slot: AgentSlot, host: InstanceHost, timerId: number): void {
    if (this.agents.get(slot.name) !== slot || slot.instance?.host !== host || slot.stopping) return;
    this.enqueue(slot, new FiredTimer(host, timerId));
  }

  // ---- scheduling ----

  private enqueue(slot: AgentSlot, item: MailboxItem): void {
    slot.mailbox.push(item);
    if (!(item instanceof FiredTimer)) slot.stats.messages_in++;
    if (slot.state !== 'deploying') this.scheduler.schedule(slot);
  }

  /**
   * One visit of the scheduler: a few of the agent's items, then the end of a stop once drained. Returns its
   * cost to the turn: invocations, plus the sends beyond one per invocation, since routing a message costs
   * about what an invocation does. A visit also ends after sendsPerAgentVisit sends: an agent sending to
   * itself refills its own mailbox as it goes, and 32 invocations of 1,000 sends each (a flood of a
   * neighbour) held every other agent behind 32,000 routings and their dead letters. And it ends after
   * fuelPerAgentVisit fuel, which counts toward the turn as one invocation per slice (FUEL_SLICE) of it: 32
   * invocations of a self-feeding agent near its fuel limit held the turn, every other agent of its thread
   * and the figures of the worker for seconds (nothing reads the clock inside a visit).
   */
  private runSlot(slot: AgentSlot): number {
    let handled = 0;
    const sentBefore = slot.stats.messages_out;
    const fuelBefore = slot.stats.fuel_used;
    while (
      handled < RUNTIME_DEFAULTS.itemsPerAgentVisit &&
      slot.stats.messages_out - sentBefore < RUNTIME_DEFAULTS.sendsPerAgentVisit &&
      slot.stats.fuel_used - fuelBefore < RUNTIME_DEFAULTS.fuelPerAgentVisit &&
      slot.mailbox.length > 0 &&
      slot.hasWork()
    ) {
      const item = slot.mailbox.shift()!;
      const marks = this.marks;
      if (marks !== undefined) marks.begin();
      try {
        if (item instanceof FiredTimer) this.invoker.runTimer(slot, item);
        else {
          if (this.onTaken !== undefined) this.onTaken(item, slot.name);
          this.invoker.runMessage(slot, item);
        }
      } finally {
        if (marks !== undefined) marks.end();
      }
      handled++;
    }
    if (slot.stopping && slot.mailbox.length === 0 && slot.state === 'draining') this.finishStop(slot);
    return handled + Math.max(0, slot.stats.messages_out - sentBefore - handled) + Math.floor((slot.stats.fuel_used - fuelBefore) / FUEL_SLICE);
  }

  // ---- failure and stop ----

  private fail(slot: AgentSlot): void {
    const reason = `agent "${slot.name}" failed: ${this.limits.maxTraps} traps within ${this.limits.trapWindowMs / 1000} s`;
    slot.instance?.host.dispose();
    slot.instance = null;
    this.setState(slot, 'failed');
    this.logger.error({ agent: slot.name, last_error: slot.stats.last_error }, 'agent failed');
    this.appendLog(slot, 'error', reason);
    this.failQueued(slot, reason);
    if (slot.stopping) this.finishStopWaiters(slot);
  }

  private finishStop(slot: AgentSlot): void {
    const instance = slot.instance;
    slot.instance = null;
    if (instance) this.invoker.runShutdown(slot, instance);
    this.setState(slot, 'stopped');
    this.finishStopWaiters(slot);
  }

  private finishStopWaiters(slot: AgentSlot): void {
    slot.stopping = false;
    const waiters = slot.stopWaiters;
    slot.stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Every queued request of an agent that will not handle it gets a failure; the mailbox empties. */
  private failQueued(slot: AgentSlot, reason: string): void {
    for (const item of slot.mailbox.drain()) {
      if (item instanceof FiredTimer) continue;
      this.onTaken?.(item, slot.name);
      this.invoker.replyFailure(slot, item, 'AGENT_UNAVAILABLE', reason);
    }
  }

  private setState(slot: AgentSlot, to: AgentState): void {
    const from = slot.state;
    if (from === to) return;
    slot.state = to;
    this.observer.onStateChange(slot.name, from, to);
  }

  /**
   * Validates, instruments and compiles a module ahead of any agent using it (failover: a standby node warms
   * the modules it would need, so a take-over is an instantiation). Throws what a deploy would.
   */
  async prepareModule(sha256: string, bytes: Uint8Array, memoryPages: number): Promise<void> {
    await this.loadModule(sha256, memoryPages, bytes);
  }

  private async loadModule(sha256: string, memoryPages: number, bytes?: Uint8Array): Promise<CompiledAgentModule> {
    if (bytes) {
      const actual = sha256Hex(bytes);
      if (actual !== sha256) throw new CaxtonError('INVALID_ARGUMENT', `module_sha256: ${sha256} does not match the module bytes (${actual})`, { field: 'module_sha256' });
      return this.cache.load(bytes, sha256, memoryPages);
    }
    const cached = this.cache.get(sha256, memoryPages);
    if (!cached) throw new CaxtonError('INVALID_MODULE', `module ${sha256} is not known on this node; send its bytes`);
    return cached;
  }

  private evictIfUnused(sha256: string): void {
    for (const slot of this.agents.values()) if (slot.sha256 === sha256) return;
    this.cache.evict(sha256);
    this.memories.forget(sha256);
  }

  private require(name: string): AgentSlot {
    const slot = this.agents.get(name);
    if (!slot) throw new CaxtonError('NOT_FOUND', `agent "${name}" not found on this node`, { agent: name });
    return slot;
  }
}
