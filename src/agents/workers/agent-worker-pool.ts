// The agents of this node spread over worker threads (config agents.workers), behind the same AgentHost
// face as the in-thread runtime. The main thread keeps the API, gossip, routing links and the registry,
// and here a record of every agent: which worker runs it, its spec, its last reported figures and its log
// lines, so every query answers at once, without asking a worker. Each worker runs an AgentRuntime of its
// own (agent-worker.ts); modules are compiled once, here, and the WebAssembly.Module is posted to the
// workers that need it. Traffic in both directions goes in one post per event-loop turn per worker.
//
// The pieces, each in its own file: worker-handle.ts (one worker and its bookkeeping),
// worker-agent-record.ts (one agent's record and what queries show of it), worker-modules.ts (which
// compiled modules a worker holds), worker-messages.ts (what the main thread does with a worker's reports),
// worker-handover.ts (an agent given back for a hand-over) and worker-watchdog.ts (a stuck or dead worker
// replaced, its agents started again).
import { MessageChannel } from 'node:worker_threads';
import { CaxtonError } from '../../errors.ts';
import type { DeliveryOutcome, MessageSink } from '../../messaging/delivery.ts';
import type { AclMessage } from '../../messaging/message.ts';
import type { AgentHost, AgentThreadFigures } from '../agent-host.ts';
import type { AgentInfo, AgentLogLine, AgentSpec, AgentState, AgentStats } from '../agent-types.ts';
import { LogRing } from '../log-ring.ts';
import type { CompiledAgentModule } from '../module-cache.ts';
import { ModuleCache } from '../module-cache.ts';
import { checkMemoryLimit } from '../module-validator.ts';
import type { RuntimeLimits } from '../runtime-defaults.ts';
import { RUNTIME_DEFAULTS } from '../runtime-defaults.ts';
import type { GuardedObserver, RuntimeLogger, RuntimeObserver } from '../runtime-observer.ts';
import { guardedObserver } from '../runtime-observer.ts';
import type { FinishedSpanRecorder } from '../invocation-tracer.ts';
import type { ToolGateway } from '../tool-gateway.ts';
import { unavailableToolGateway } from '../tool-gateway.ts';
import { settledWireTextOf, wireByteLengthOf } from '../../messaging/wire-text.ts';
import type { DeliveryReports } from './delivery-reports.ts';
import { emptyStats, infoOf, statsOf, type AgentRecord } from './worker-agent-record.ts';
import { WorkerHandle } from './worker-handle.ts';
import { WorkerHandover } from './worker-handover.ts';
import { WorkerMessages } from './worker-messages.ts';
import { loadModule, pruneModules } from './worker-modules.ts';
import type { FromWorker, IdleFigures, ToWorker, WorkerSetup } from './worker-protocol.ts';
import { DEFAULT_WORKER_STALL_MS, WorkerWatchdog } from './worker-watchdog.ts';

export type { DeliveryReports } from './delivery-reports.ts';
export { DEFAULT_WORKER_STALL_MS } from './worker-watchdog.ts';

export interface AgentWorkerPoolOptions {
  nodeId: string;
  /** Worker threads, at least 1. */
  workers: number;
  /** The router: where sends that leave a worker go. */
  sink: MessageSink;
  reports: DeliveryReports;
  logger?: RuntimeLogger;
  toolGateway?: ToolGateway;
  observer?: Partial<RuntimeObserver>;
  cache?: ModuleCache;
  limits?: Partial<RuntimeLimits>;
  logRingSize?: number;
  /** Live instances for the whole node (one address space): each worker gets its share. */
  maxLiveInstances?: number;
  /** A worker inside one invocation for longer than this is replaced (config agents.worker_stall_ms). */
  stallMs?: number;
  /** Which messages delivered inside a worker go to `reports.routed` (WorkerSetup.observeLocal); default all. */
  observeLocal?: WorkerSetup['observeLocal'];
  /** Records the spans workers make (invocations, tool calls) when tracing is on; absent, workers make none. */
  spans?: FinishedSpanRecorder;
}

type RequestItem = Extract<ToWorker, { req: number }>;

const silentLogger: RuntimeLogger = { info() {}, warn() {}, error() {} };

export class AgentWorkerPool implements AgentHost {
  readonly cache: ModuleCache;
  private readonly o: AgentWorkerPoolOptions;
  private readonly logger: RuntimeLogger;
  private readonly observer: GuardedObserver;
  private readonly gateway: ToolGateway;
  private readonly setup: Omit<WorkerSetup, 'index' | 'marks'>;
  /** Started on demand: a node without agents starts no worker (a worker costs its isolate and loader). */
  private readonly workers: WorkerHandle[] = [];
  private readonly size: number;
  private readonly records = new Map<string, AgentRecord>();
  private readonly stallMs: number;
  private readonly watchdog: WorkerWatchdog;
  private readonly messages: WorkerMessages;
  private readonly handover: WorkerHandover;
  private flushQueued = false;
  private nextReq = 1;
  private nextSeq = 1;
  /** Messages moved between threads: whenIdle waits until a round of idle workers moved none. */
  private moved = 0;
  private closed = false;

  constructor(options: AgentWorkerPoolOptions) {
    if (!(options.workers >= 1)) throw new Error('an agent worker pool needs at least one worker');
    this.o = options;
    this.logger = options.logger ?? silentLogger;
    this.observer = guardedObserver(options.observer ?? {}, this.logger);
    this.gateway = options.toolGateway ?? unavailableToolGateway;
    this.cache = options.cache ?? new ModuleCache();
    this.stallMs = options.stallMs ?? DEFAULT_WORKER_STALL_MS;
    this.setup = {
      nodeId: options.nodeId,
      limits: options.limits ?? {},
      // The main thread keeps each agent's log ring (queries are answered here); a worker's own holds one line.
      logRingSize: 1,
      maxLiveInstances: Math.ceil((options.maxLiveInstances ?? RUNTIME_DEFAULTS.maxLiveInstances) / options.workers),
      observeLocal: options.observeLocal ?? 'all',
      wantsDurations: this.observer.wantsDurations !== false,
      durationSampleEvery: this.observer.durationSampleEvery,
      tracing: options.spans !== undefined,
    };
    this.size = options.workers;
    this.messages = new WorkerMessages({
      records: this.records,
      sink: options.sink,
      reports: options.reports,
      observer: this.observer,
      logger: this.logger,
      gateway: this.gateway,
      send: (handle, item) => this.send(handle, item),
      moved: () => void this.moved++,
      spans: options.spans,
    });
    this.handover = new WorkerHandover({
      records: this.records,
      sink: options.sink,
      observer: this.observer,
      logger: this.logger,
      request: (handle, item) => this.request(handle, item),
      unplaceEverywhere: (name) => this.unplaceEverywhere(name),
      forget: (record) => this.forget(record),
    });
    this.watchdog = new WorkerWatchdog(this.stallMs, {
      workers: this.workers,
      records: this.records,
      reports: options.reports,
      observer: this.observer,
      logger: this.logger,
      closed: () => this.closed,
      spawn: (index, restarts) => this.spawn(index, restarts),
      startOnWorker: (record) => this.startOnWorker(record),
      request: (handle, item) => this.request(handle, item),
    });
  }

  // ---- LocalAgents (the router's view) ----

  has(name: string): boolean {
    return this.records.has(name);
  }

  deliver(message: AclMessage, to: string): DeliveryOutcome {
    const record = this.records.get(to);
    if (record === undefined) return 'not_found';
    if (record.held !== undefined) {
      if (record.held.length + record.pending >= record.spec.limits.mailbox) return 'mailbox_full';
      record.held.push(message);
      return 'queued';
    }
    if (this.closed || record.stopping || record.restarting || !(record.state === 'running' || record.state === 'draining' || record.state === 'deploying')) {
      return 'unavailable';
    }
    if (record.pending >= record.spec.limits.mailbox) return 'mailbox_full';
    const handle = record.worker;
    const seq = this.nextSeq++;
    handle.inFlight.set(seq, { msg: message, to });
    record.pending++;
    handle.messagesIn++;
    this.moved++;
    const track = this.setup.observeLocal === 'tracked' && this.o.reports.tracks?.(message.conversation_id) === true;
    const text = settledWireTextOf(message);
    if (text !== undefined) {
      this.send(handle, track ? { t: 'deliver-text', seq, to, text, bytes: wireByteLengthOf(message), track } : { t: 'deliver-text', seq, to, text, bytes: wireByteLengthOf(message) });
    } else {
      this.send(handle, track ? { t: 'deliver', seq, to, msg: message, track } : { t: 'deliver', seq, to, msg: message });
    }
    return 'queued';
  }

  // ---- lifecycle ----

  async start(spec: AgentSpec, sha256: string, version: number, moduleBytes?: Uint8Array): Promise<AgentInfo> {
    if (this.closed) throw new CaxtonError('UNAVAILABLE', 'the agent runtime is shutting down');
    if (this.records.has(spec.name)) throw new CaxtonError('CONFLICT', `agent "${spec.name}" already exists on this node`);
    const record: AgentRecord = {
      name: spec.name,
      worker: this.leastLoaded(),
      spec,
      sha256,
      version,
      state: 'deploying',
      stats: emptyStats(),
      updatedAt: '',
      logs: new LogRing(this.o.logRingSize ?? RUNTIME_DEFAULTS.logRingSize),
      pending: 0,
      stopping: false,
      restarting: false,
      wanted: 'running',
      createdAt: new Date().toISOString(),
    };
    this.records.set(spec.name, record);
    record.worker.agents.add(spec.name);
    this.broadcast({ t: 'placed', index: record.worker.index, names: [spec.name], mailboxes: [spec.limits.mailbox] });
    try {
      const compiled = await loadModule(this.cache, sha256, spec.limits.memory_pages, moduleBytes);
      checkMemoryLimit(compiled.inspection, spec.limits.memory_pages);
      if (this.records.get(spec.name) !== record || this.closed) throw new CaxtonError('CONFLICT', `agent "${spec.name}" was removed while deploying`);
      const info = await this.onWorker(record, compiled, { t: 'start', req: 0, spec, sha256, version });
      this.take(record, info as AgentInfo);
      return this.info(spec.name);
    } catch (err) {
      if (this.records.get(spec.name) === record) this.forget(record);
      throw err;
    }
  }

  async upgrade(spec: AgentSpec, sha256: string, version: number, moduleBytes?: Uint8Array): Promise<AgentInfo> {
    const record = this.require(spec.name);
    const compiled = await loadModule(this.cache, sha256, spec.limits.memory_pages, moduleBytes);
    checkMemoryLimit(compiled.inspection, spec.limits.memory_pages);
    if (this.records.get(spec.name) !== record) throw new CaxtonError('CONFLICT', `agent "${spec.name}" was removed; retry the upgrade`);
    const oldSha = record.sha256;
    const info = (await this.onWorker(record, compiled, { t: 'upgrade', req: 0, spec, sha256, version })) as AgentInfo;
    if (record.spec.limits.mailbox !== spec.limits.mailbox && record.held === undefined) {
      this.broadcast({ t: 'placed', index: record.worker.index, names: [spec.name], mailboxes: [spec.limits.mailbox] });
    }
    record.spec = spec;
    record.sha256 = sha256;
    record.version = version;
    record.wanted = 'running';
    this.take(record, info);
    if (oldSha !== sha256) pruneModules(record.worker, this.records, this.cache);
    return this.info(spec.name);
  }

  async stop(name: string): Promise<void> {
    const record = this.require(name);
    if (record.state === 'stopped' || record.state === 'failed') {
      record.wanted = 'stopped';
      return;
    }
    record.stopping = true;
    try {
      await this.request(record.worker, { t: 'stop', req: 0, name });
      record.wanted = 'stopped';
    } finally {
      record.stopping = false;
    }
  }

  async prepareModule(sha256: string, bytes: Uint8Array, memoryPages: number): Promise<void> {
    await loadModule(this.cache, sha256, memoryPages, bytes);
  }

  /** See AgentHost.prepareRelease, and WorkerHandover.prepare for how a worker gives an agent back. */
  prepareRelease(name: string): Promise<void> {
    // From now on sends to it go through the main thread, which holds them for the new owner.
    return this.handover.prepare(this.require(name));
  }

  /** See AgentHost.release, and WorkerHandover.release. */
  release(name: string): AclMessage[] {
    return this.handover.release(this.require(name));
  }

  async remove(name: string): Promise<void> {
    const record = this.require(name);
    record.stopping = true;
    try {
      // A hand-over under way takes the agent off its worker already: removing it there too would be refused.
      if (record.releasing !== undefined) await record.releasing;
      else await this.request(record.worker, { t: 'remove', req: 0, name });
    } finally {
      if (this.records.get(name) === record) this.forget(record);
      // What was held for the new owner goes where the name points now: the router answers for a gone agent.
      const held = record.held ?? [];
      record.held = undefined;
      for (const message of held) this.o.sink.route(message);
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Agents drain their mailboxes and run agent_shutdown, as on one thread; a worker stuck in an invocation
    // (no replacement once closed) is not waited for beyond twice the stall bound.
    let bounded: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.workers.map((handle) => this.request(handle, { t: 'shutdown', req: 0 }))),
      new Promise((resolve) => (bounded = setTimeout(resolve, this.stallMs * 2))),
    ]);
    clearTimeout(bounded);
    this.watchdog.stop();
    for (const handle of this.workers) {
      handle.alive = false;
      await handle.worker.terminate();
    }
  }

  // ---- queries: answered from the records, never by asking a worker ----

  info(name: string): AgentInfo {
    return infoOf(this.require(name), this.o.nodeId);
  }

  list(): AgentInfo[] {
    return [...this.records.keys()].map((name) => this.info(name));
  }

  state(name: string): AgentState | undefined {
    return this.records.get(name)?.state;
  }

  stats(name: string): AgentStats {
    return statsOf(this.require(name));
  }

  logs(name: string, afterSeq = 0, limit = 100): AgentLogLine[] {
    return this.require(name).logs.after(afterSeq, limit);
  }

  followLogs(name: string, listener: (line: AgentLogLine) => void): () => void {
    return this.require(name).logs.follow(listener);
  }

  /** Resolves once a round in which every worker was idle moved no message between threads. */
  async whenIdle(): Promise<void> {
    let directBefore = -1;
    for (;;) {
      const before = this.moved;
      const answers = await Promise.allSettled(this.workers.filter((h) => h.alive).map((handle) => this.request(handle, { t: 'idle', req: 0 })));
      await new Promise((resolve) => setImmediate(resolve));
      // Sends between workers never pass here: each worker counts its own, and what the receiver has not settled.
      let direct = 0;
      let unsettled = 0;
      for (const answer of answers) {
        if (answer.status !== 'fulfilled') continue;
        const figures = answer.value as IdleFigures;
        direct += figures.directSent;
        unsettled += figures.directUnsettled;
      }
      const still = direct === directBefore && unsettled === 0;
      directBefore = direct;
      if (this.moved === before && still && this.messages.toolCallsInFlight === 0) return;
    }
  }

  threadFigures(): AgentThreadFigures[] {
    const figures = this.workers.map((handle) => ({
      thread: `worker-${handle.index}`,
      agents: handle.agents.size,
      messages_in: handle.messagesIn,
      messages_out: handle.messagesOut,
      messages_local: handle.messagesLocal,
      messages_direct: handle.messagesDirect,
      restarts: handle.restarts,
      heap_used_bytes: handle.heapUsed,
    }));
    // Heap figures are refreshed for the next read: a scrape never waits on a busy worker.
    for (const handle of this.workers) {
      if (!handle.alive) continue;
      this.request(handle, { t: 'heap', req: 0 }).then(
        (bytes) => (handle.heapUsed = bytes as number),
        () => {},
      );
    }
    return figures;
  }

  // ---- workers ----

  private spawn(index: number, restarts: number): WorkerHandle {
    const handle = new WorkerHandle(index, this.setup, restarts);
    this.connectPeers(handle);
    handle.worker.on('message', (batch: FromWorker[]) => {
      if (!handle.alive) return;
      for (const item of batch) {
        try {
          this.messages.received(handle, item);
        } catch (err) {
          this.logger.error({ err, worker: index }, 'handling a report of an agent worker failed');
        }
      }
    });
    // A batch the structured clone could not rebuild here is lost whole (a value nested thousands deep): said.
    handle.worker.on('messageerror', (err) => this.logger.error({ err, worker: index }, 'a batch from an agent worker could not be read'));
    handle.worker.on('error', (err) => {
      this.logger.error({ err, worker: index }, 'agent worker failed');
      this.watchdog.replace(handle, `it failed: ${err.message}`);
    });
    handle.worker.on('exit', (code) => {
      if (handle.alive && !this.closed) this.watchdog.replace(handle, `it exited (code ${code})`);
    });
    return handle;
  }

  /**
   * A MessageChannel between the new (or replacing) worker and every other live one, and where every agent
   * runs: a send from an agent to an agent of another worker then goes straight there. A replaced worker's
   * peers, given its successor's port, report what they sent the old one and it had not taken as lost.
   */
  private connectPeers(handle: WorkerHandle): void {
    for (const other of this.workers) {
      if (other.index === handle.index || !other.alive) continue;
      const { port1, port2 } = new MessageChannel();
      const mine: ToWorker = { t: 'peer-port', index: other.index, port: port1 };
      const theirs: ToWorker = { t: 'peer-port', index: handle.index, port: port2 };
      handle.worker.postMessage([mine], [port1]);
      other.worker.postMessage([theirs], [port2]);
    }
    const byWorker = new Map<number, { names: string[]; mailboxes: number[] }>();
    for (const record of this.records.values()) {
      if (record.held !== undefined) continue;
      let placed = byWorker.get(record.worker.index);
      if (placed === undefined) byWorker.set(record.worker.index, (placed = { names: [], mailboxes: [] }));
      placed.names.push(record.name);
      placed.mailboxes.push(record.spec.limits.mailbox);
    }
    for (const [index, placed] of byWorker) this.send(handle, { t: 'placed', index, ...placed });
  }

  private async unplaceEverywhere(name: string): Promise<void> {
    const answers = this.workers.filter((handle) => handle.alive).map((handle) => this.request(handle, { t: 'unplace', req: 0, names: [name] }));
    // A worker replaced meanwhile sends nothing more: its answer is not needed.
    await Promise.allSettled(answers);
  }

  private broadcast(item: ToWorker): void {
    for (const handle of this.workers) if (handle.alive) this.send(handle, item);
  }

  /** The worker with the fewest agents; a new one while fewer than `size` run and none is empty. */
  private leastLoaded(): WorkerHandle {
    let best: WorkerHandle | undefined;
    for (const handle of this.workers) if (best === undefined || handle.agents.size < best.agents.size) best = handle;
    if (best === undefined || (best.agents.size > 0 && this.workers.length < this.size)) {
      best = this.spawn(this.workers.length, 0);
      this.workers.push(best);
    }
    return best;
  }

  private send(handle: WorkerHandle, item: ToWorker): void {
    handle.outbox.push(item);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // setImmediate, not a microtask: one post carries what every socket read of this loop iteration
      // routed (a microtask would post once per HTTP request).
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    for (const handle of this.workers) {
      if (handle.outbox.length === 0) continue;
      const batch = handle.outbox;
      handle.outbox = [];
      if (handle.alive) handle.worker.postMessage(batch);
    }
  };

  private request(handle: WorkerHandle, item: RequestItem): Promise<unknown> {
    if (!handle.alive) return Promise.reject(new CaxtonError('UNAVAILABLE', `agent worker ${handle.index} is being replaced; retry`));
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      handle.requests.set(req, { resolve, reject });
      this.send(handle, { ...item, req });
    });
  }

  /** Sends the module to the agent's worker unless it holds it, then the request. */
  private onWorker(record: AgentRecord, compiled: CompiledAgentModule, item: RequestItem): Promise<unknown> {
    const handle = record.worker;
    const memoryPages = 'spec' in item ? item.spec.limits.memory_pages : record.spec.limits.memory_pages;
    const key = `${compiled.sha256}/${memoryPages}`;
    if (!handle.modules.has(key)) {
      handle.modules.add(key);
      this.send(handle, { t: 'module', compiled, memoryPages });
    }
    return this.request(handle, item);
  }


  /** Starts the record's agent again on its worker (a replacement) from the module the main thread keeps. */
  private async startOnWorker(record: AgentRecord): Promise<void> {
    const compiled = await loadModule(this.cache, record.sha256, record.spec.limits.memory_pages);
    const info = (await this.onWorker(record, compiled, { t: 'start', req: 0, spec: record.spec, sha256: record.sha256, version: record.version })) as AgentInfo;
    this.take(record, info);
  }

  private take(record: AgentRecord, info: AgentInfo): void {
    record.stats = info.stats;
    record.updatedAt = info.updated_at;
    record.state = info.state;
  }

  private forget(record: AgentRecord): void {
    this.broadcast({ t: 'unplaced', names: [record.name] });
    this.records.delete(record.name);
    record.worker.agents.delete(record.name);
    pruneModules(record.worker, this.records, this.cache);
  }

  private require(name: string): AgentRecord {
    const record = this.records.get(name);
    if (!record) throw new CaxtonError('NOT_FOUND', `agent "${name}" not found on this node`, { agent: name });
    return record;
  }
}
