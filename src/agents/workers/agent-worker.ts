// One agent worker thread: an AgentRuntime of its own, fed by the main thread's batches and reporting back
// in batches (worker-protocol.ts). A send to an agent of this same worker is delivered here, without
// leaving the thread (the fast path); a send to an agent of another worker goes there directly
// (direct-channels.ts); every other send, and any message whose protocol the node's
// conversation tracker judges, goes to the main thread's router.
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { CaxtonError, describeError, type ErrorCode } from '../../errors.ts';
import type { AclMessage } from '../../messaging/message.ts';
import { CAPABILITY_PREFIX, CLIENT_PREFIX } from '../../messaging/message.ts';
import { AgentRuntime } from '../agent-runtime.ts';
import { ModuleCache } from '../module-cache.ts';
import { messageOfWireText, settledWireTextOf, wireByteLengthOf } from '../../messaging/wire-text.ts';
import type { RuntimeLogger } from '../runtime-observer.ts';
import type { ErrorShape, FromWorker, ToWorker, WorkerSetup } from './worker-protocol.ts';
import { WorkerFigures } from './worker-figures.ts';
import { RecentSet } from '../../messaging/recent-set.ts';
import { DirectChannels } from './direct-channels.ts';
import { looksSampled } from '../../observability/trace-context.ts';
import { WorkerInvocationTracer } from './worker-invocation-tracer.ts';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const marks = new Int32Array(setup.marks);

let out: FromWorker[] = [];
let flushQueued = false;
/** When the last batch left: a long scheduler turn (slow invocations) still sends what it has every few ms. */
let flushedAt = performance.now();
const FLUSH_EVERY_MS = 20;
/**
 * Metrics (invocation counts and durations, deliveries inside the worker) leave at most this often, or with
 * an answer to a request (so whenIdle sees them): they feed counters and histograms, which need no turn-by-turn
 * freshness, and a post per turn of them was a tenth of a busy worker's time.
 */
const METRICS_EVERY_MS = 20;
let metricsAt = performance.now();
let metricsTimer: NodeJS.Timeout | undefined;
let answered = false;

/** Asks for the next batch to leave at the end of this turn (a microtask). */
function wantFlush(): void {
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

function emit(item: FromWorker): void {
  out.push(item);
  wantFlush();
}

const figures = new WorkerFigures({
  push: (item) => out.push(item),
  wantFlush,
  counters: (agent) => runtime.counters(agent),
  stats: (agent) => runtime.stats(agent),
  fromMain: (agent) => fromMain.get(agent) ?? 0,
});

function flush(): void {
  flushQueued = false;
  const now = performance.now();
  flushedAt = now;
  if (figures.changed) figures.writeFigures();
  if (figures.uncounted) {
    if (answered || now - metricsAt >= METRICS_EVERY_MS) {
      metricsAt = now;
      figures.pushMetrics();
    } else if (metricsTimer === undefined) {
      metricsTimer = setTimeout(() => {
        metricsTimer = undefined;
        metricsAt = -Infinity;
        flush();
      }, METRICS_EVERY_MS);
    }
  }
  answered = false;
  if (taken.length > 0) {
    out.push({ t: 'taken', seqs: taken });
    taken = [];
  }
  if (direct.pending) direct.flush();
  if (out.length === 0) return;
  const batch = out;
  out = [];
  port.postMessage(batch);
}

function errorShape(err: unknown): ErrorShape {
  if (err instanceof CaxtonError) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  return { code: 'INTERNAL', message: describeError(err) };
}

/** Objects handed to the logger may hold Errors: sent as plain fields. */
function plain(obj: object): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    copy[key] = value instanceof Error ? { message: value.message, stack: value.stack, name: value.name } : value;
  }
  return copy;
}

const logger: RuntimeLogger = {
  info: (obj, msg) => emit({ t: 'logger', level: 'info', obj: plain(obj), msg }),
  warn: (obj, msg) => emit({ t: 'logger', level: 'warn', obj: plain(obj), msg }),
  error: (obj, msg) => emit({ t: 'logger', level: 'error', obj: plain(obj), msg }),
};

// ---- messages the main thread delivered, until they leave their mailboxes ----

/** The main thread's number for a message it delivered here (a Map when one object went to several agents). */
const seqOf = new WeakMap<AclMessage, number | Map<string, number>>();
let taken: number[] = [];
/** Per agent: messages from the main thread in its mailbox (so its depth splits into theirs and this thread's). */
const fromMain = new Map<string, number>();

function remember(msg: AclMessage, to: string, seq: number): void {
  fromMain.set(to, (fromMain.get(to) ?? 0) + 1);
  const known = seqOf.get(msg);
  if (known === undefined) seqOf.set(msg, seq);
  else if (typeof known === 'number') seqOf.set(msg, new Map([['', known], [to, seq]]));
  else known.set(to, seq);
}

function takenFrom(msg: AclMessage, agent: string): void {
  if (direct.settle(msg)) return;
  const known = seqOf.get(msg);
  if (known === undefined) return;
  let seq: number | undefined;
  if (typeof known === 'number') {
    seq = known;
    seqOf.delete(msg);
  } else {
    const key = known.has(agent) ? agent : '';
    seq = known.get(key);
    if (seq === undefined) return;
    known.delete(key);
  }
  taken.push(seq);
  const waiting = fromMain.get(agent) ?? 0;
  if (waiting > 1) fromMain.set(agent, waiting - 1);
  else fromMain.delete(agent);
  wantFlush();
}

// ---- the direct channels to the other workers (direct-channels.ts) ----

const direct = new DirectChannels({
  emit,
  wantFlush,
  deliver: (msg, to) => runtime.deliver(msg, to),
  queued(msg, to) {
    figures.touch(to);
    if (observed(msg)) emit({ t: 'routed', msg, to, direct: true });
    else figures.routedHere(true);
  },
  tracks: (conversationId) => setup.observeLocal === 'tracked' && tracked.has(conversationId),
  track,
  logger,
});

// ---- which deliveries inside the worker the main thread's conversation history wants to see ----

/** As the history's own bound (src/node/observers.ts): conversations remembered as tracked. */
const TRACKED_MAX = 100_000;
const tracked = new RecentSet(TRACKED_MAX);

function track(conversationId: string): void {
  if (setup.observeLocal !== 'tracked' || tracked.has(conversationId)) return;
  tracked.add(conversationId);
}

/**
 * A send under a sampled trace, on a tracing node: it goes through the main thread's router, which makes its
 * route span, so the chain (invoke → route → invoke) is the same as with agents on the main thread.
 */
function traced(msg: AclMessage): boolean {
  return setup.tracing && msg.trace_context !== undefined && looksSampled(msg.trace_context.traceparent);
}

/** The history's `tracked` rule: a conversation opened by a client or under a protocol is recorded. */
function observed(msg: AclMessage): boolean {
  const mode = setup.observeLocal;
  if (mode === 'all') return true;
  if (mode === 'off') return false;
  return msg.conversation_id !== msg.message_id && tracked.has(msg.conversation_id);
}

// ---- tool calls, answered by the main thread's gateway ----

const toolCalls = new Map<number, { resolve(value: unknown): void; reject(err: unknown): void }>();
let nextToolCall = 1;

const runtime: AgentRuntime = new AgentRuntime({
  nodeId: setup.nodeId,
  sink: {
    route(msg) {
      const to = msg.receiver;
      if (typeof to === 'string' && msg.protocol === undefined && !to.startsWith(CAPABILITY_PREFIX) && !to.startsWith(CLIENT_PREFIX) && !traced(msg)) {
        // One lookup: `not_found` is an agent of no mailbox here.
        const outcome = runtime.deliver(msg, to);
        if (outcome === 'queued') {
          figures.touch(to);
          if (observed(msg)) emit({ t: 'routed', msg, to });
          else figures.routedHere(false);
          return;
        }
        if (outcome !== 'not_found') {
          emit({ t: 'refused', msg, to, outcome });
          return;
        }
        // An agent of another worker: straight there, in this turn's post to it (the receiver reports it).
        if (direct.send(msg, to)) return;
      }
      if (typeof to === 'string' && to.startsWith(CLIENT_PREFIX)) track(msg.conversation_id);
      const text = settledWireTextOf(msg);
      emit(text === undefined ? { t: 'route', msg } : { t: 'route-text', text, bytes: wireByteLengthOf(msg) });
    },
  },
  cache: ModuleCache.unmetered(),
  logger,
  tracer: setup.tracing ? new WorkerInvocationTracer((span) => emit({ t: 'span', span })) : undefined,
  limits: setup.limits,
  logRingSize: setup.logRingSize,
  maxLiveInstances: setup.maxLiveInstances,
  toolGateway: {
    call(agent, server, tool, args) {
      const id = nextToolCall++;
      return new Promise((resolve, reject) => {
        toolCalls.set(id, { resolve, reject });
        emit({ t: 'tool-call', id, agent, server, tool, args });
      });
    },
  },
  observer: {
    wantsDurations: setup.wantsDurations,
    durationSampleEvery: setup.durationSampleEvery,
    onInvocation: (agent, kind, durationNs, outcome) => figures.invocation(agent, kind, durationNs, outcome),
    onTrap: (agent, reason) => emit({ t: 'trap', agent, reason }),
    onStateChange(agent, from, to) {
      emit({ t: 'state', agent, from, to });
      figures.touch(agent);
    },
    onLog: (line) => emit({ t: 'log', line }),
    onPermissionDenied: (agent, what) => emit({ t: 'denied', agent, what }),
  },
  onTaken: takenFrom,
  invocationMarks: {
    begin() {
      marks[0] = 1;
      marks[1] = (marks[1] + 1) | 0;
    },
    end() {
      marks[0] = 0;
      // Inside a scheduler turn the microtask flush waits for the turn's end: 32 slow invocations of one
      // agent would hold every send and figure for that long. The clock is read only with something to send.
      // Figures alone do not wait on it: they are written at the turn's end (a turn ends about its time
      // budget, ~8 ms, past it by at most one invocation: a visit ends once it burned fuelPerAgentVisit).
      if ((out.length > 0 || taken.length > 0 || direct.pending) && performance.now() - flushedAt > FLUSH_EVERY_MS) flush();
    },
  },
});

function answer(req: number, work: () => Promise<unknown> | unknown): void {
  let pending: Promise<unknown>;
  try {
    pending = Promise.resolve(work());
  } catch (err) {
    pending = Promise.reject(err);
  }
  pending.then(
    (value) => {
      answered = true;
      emit({ t: 'done', req, ok: true, value });
    },
    (err: unknown) => {
      answered = true;
      emit({ t: 'done', req, ok: false, error: errorShape(err) });
    },
  );
}

/** A message the main thread routed to an agent of this worker. */
function deliver(msg: AclMessage, to: string, seq: number, tracked: true | undefined): void {
  if (tracked || msg.protocol !== undefined || msg.sender.startsWith(CLIENT_PREFIX)) track(msg.conversation_id);
  const outcome = runtime.deliver(msg, to);
  // Not touched here: the agent's figures leave with the batch its invocation makes, so a delivery does
  // not cost a post of its own before the turn that handles it.
  if (outcome === 'queued') remember(msg, to, seq);
  else emit({ t: 'refused', msg, to, outcome, seq });
}

function handle(item: ToWorker): void {
  switch (item.t) {
    case 'deliver':
      return deliver(item.msg, item.to, item.seq, item.track);
    case 'deliver-text':
      return deliver(messageOfWireText(item.text, item.bytes), item.to, item.seq, item.track);
    case 'module':
      runtime.cache.adopt(item.compiled, item.memoryPages);
      return;
    case 'start':
      return answer(item.req, () => runtime.start(item.spec, item.sha256, item.version));
    case 'upgrade':
      return answer(item.req, () => runtime.upgrade(item.spec, item.sha256, item.version));
    case 'stop':
      return answer(item.req, async () => {
        await runtime.stop(item.name);
        figures.touch(item.name);
      });
    case 'remove':
      return answer(item.req, async () => {
        await runtime.remove(item.name);
        figures.freeSlot(item.name);
      });
    case 'release':
      fromMain.delete(item.name);
      return answer(item.req, () => {
        // Sends from other workers posted before they stopped sending here directly (the main thread waited
        // for that) go into the mailbox first, so they leave with it, ahead of what the main thread holds.
        direct.drain();
        const queued = runtime.release(item.name);
        figures.freeSlot(item.name);
        // Those from other workers leave with the hand-over: their senders stop waiting on them.
        for (const msg of queued) direct.settle(msg);
        return queued;
      });
    case 'shutdown':
      return answer(item.req, () => runtime.shutdown());
    case 'idle':
      return answer(item.req, async () => {
        await runtime.whenIdle();
        return direct.idleFigures();
      });
    case 'peer-port':
      direct.connect(item.index, item.port);
      return;
    case 'placed':
      direct.place(item.index, item.names, item.mailboxes);
      return;
    case 'unplaced':
      direct.unplace(item.names);
      return;
    case 'unplace':
      // Answered after this turn's direct posts: the answer's flush posts them first.
      return answer(item.req, () => direct.unplace(item.names));
    case 'heap':
      return answer(item.req, () => getHeapStatistics().used_heap_size);
    case 'tool-result': {
      const call = toolCalls.get(item.id);
      if (call === undefined) return;
      toolCalls.delete(item.id);
      if (item.ok) call.resolve(item.value);
      else call.reject(new CaxtonError(item.error.code as ErrorCode, item.error.message, item.error.details));
      return;
    }
  }
}

// A batch the structured clone could not rebuild here (nested too deep for this thread's stack) is lost whole:
// said, not silent.
port.on('messageerror', (err) => logger.error({ err }, 'agent worker: a batch from the main thread could not be read'));

port.on('message', (batch: ToWorker[]) => {
  for (const item of batch) {
    try {
      handle(item);
    } catch (err) {
      logger.error({ err }, 'agent worker: a request from the main thread failed');
    }
  }
});
