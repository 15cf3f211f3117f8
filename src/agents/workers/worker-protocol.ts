// What the main thread and an agent worker say to each other. Both directions travel as arrays posted once
// per event-loop turn (a batch), never one post per message: a post costs about what routing a message does.
import type { MessagePort } from 'node:worker_threads';
import type { AclMessage } from '../../messaging/message.ts';
import type { DeliveryOutcome } from '../../messaging/delivery.ts';
import type { AgentLogLine, AgentSpec, AgentState, AgentStats } from '../agent-types.ts';
import type { FinishedSpan } from '../invocation-tracer.ts';
import type { CompiledAgentModule } from '../module-cache.ts';
import type { RuntimeLimits } from '../runtime-defaults.ts';
import type { InvocationKind, InvocationOutcome } from '../runtime-observer.ts';
import type { TrapReason } from '../trap-reason.ts';

/** Given to a worker at start (workerData). */
export interface WorkerSetup {
  index: number;
  nodeId: string;
  limits: Partial<RuntimeLimits>;
  /** Lines kept per agent in the worker's runtime (the main thread keeps the real ring). */
  logRingSize: number;
  maxLiveInstances?: number;
  /** [busy, invocation count]: written by the worker around each invocation, read by the main thread's watchdog. */
  marks: SharedArrayBuffer;
  /**
   * Which messages delivered inside the worker are reported one by one (so the router's observer, the
   * conversation history, sees them): all, those of conversations the history tracks (opened by a client or
   * under a protocol, as state.conversation_log `tracked` decides), or none (counted only).
   */
  observeLocal: 'all' | 'tracked' | 'off';
  /** Whether invocation durations are measured and reported. */
  wantsDurations: boolean;
  /** Without wantsDurations: one message or timer invocation in this many is timed (RuntimeObserver's). */
  durationSampleEvery?: number;
  /**
   * The node traces: invocations and tool calls under a sampled trace make spans (posted as `span`), and an
   * agent's send under one goes through the main thread's router, which makes its route span, as in-thread.
   */
  tracing: boolean;
}

export type ErrorShape = { code: string; message: string; details?: Record<string, unknown> };

/** Main thread → worker. */
export type ToWorker =
  | { t: 'module'; compiled: CompiledAgentModule; memoryPages: number }
  | { t: 'start'; req: number; spec: AgentSpec; sha256: string; version: number }
  | { t: 'upgrade'; req: number; spec: AgentSpec; sha256: string; version: number }
  | { t: 'stop'; req: number; name: string }
  | { t: 'remove'; req: number; name: string }
  /** Takes the agent out at once (a drain's hand-over): answered with its queued messages, in arrival order. */
  | { t: 'release'; req: number; name: string }
  | { t: 'shutdown'; req: number }
  | { t: 'idle'; req: number }
  | { t: 'heap'; req: number }
  /** A message for an agent of this worker; `seq` names it until the worker says it left the mailbox. */
  | { t: 'deliver'; seq: number; to: string; msg: AclMessage; track?: true }
  /**
   * The same for a message whose wire text the main thread knows (a client's body, spliced; an agent's send
   * from another worker): the text alone, which the agent receives as it is (see `route-text`).
   */
  | { t: 'deliver-text'; seq: number; to: string; text: string; bytes: number; track?: true }
  | { t: 'tool-result'; id: number; ok: true; value: unknown }
  | { t: 'tool-result'; id: number; ok: false; error: ErrorShape }
  /**
   * This worker's end of the direct channel to worker `index` (posted with the port in the transfer list). A
   * port for an index that already had one means that worker was replaced: what was sent to the old one and
   * not taken there is reported `lost`.
   */
  | { t: 'peer-port'; index: number; port: MessagePort }
  /**
   * These agents run on worker `index`: a send to one of them goes there directly, without the main thread.
   * `mailboxes[i]` is names[i]'s mailbox bound: what one worker sends it unsettled never exceeds it.
   */
  | { t: 'placed'; index: number; names: string[]; mailboxes: number[] }
  /** These agents left their worker (removed, handed over): sends to them go through the main thread again. */
  | { t: 'unplaced'; names: string[] }
  /**
   * The same for an agent whose hand-over begins, answered once this worker stopped sending to them directly
   * and posted what it had sent (so it waits on the owner's ports before the owner is asked to release).
   */
  | { t: 'unplace'; req: number; names: string[] };

/**
 * Worker ↔ worker, over the pair's MessageChannel, in one post per turn: deliveries (`seq` numbers it per
 * sending worker until the receiver says it left the mailbox, was refused or re-routed) and those answers.
 */
export type PeerItem =
  | { t: 'direct'; seq: number; to: string; msg: AclMessage; track?: true }
  /** The same for a message whose wire text is known: the text alone (as `deliver-text`). */
  | { t: 'direct-text'; seq: number; to: string; text: string; bytes: number; track?: true }
  | { t: 'settled'; seqs: number[] };

/** What a worker answers to `idle`: messages it sent directly to other workers, and those still unsettled. */
export interface IdleFigures {
  directSent: number;
  directUnsettled: number;
}

/** Worker → main thread. */
export type FromWorker =
  | { t: 'done'; req: number; ok: true; value?: unknown }
  | { t: 'done'; req: number; ok: false; error: ErrorShape }
  /** A send for the main thread's router (another worker, a client, another node, a protocol to judge). */
  | { t: 'route'; msg: AclMessage }
  /**
   * The same for a message whose wire text the worker knows (an agent's spliced send): the text alone. A
   * string clones for a fraction of what the object does, and the main thread's JSON.parse of it costs less
   * than deserializing the object, which the conversation history would then serialize again.
   */
  | { t: 'route-text'; text: string; bytes: number }
  /**
   * Delivered inside the worker (`direct`: sent here by an agent of another worker over the direct channel):
   * reported so the router's observer (metrics, history, events) sees it.
   */
  | { t: 'routed'; msg: AclMessage; to: string; direct?: true }
  /** Delivered inside the worker, counted only (observeLocal off); `direct`: of those, from other workers. */
  | { t: 'routed-count'; n: number; direct: number }
  /** Not delivered inside the worker (mailbox full, agent stopped): the router answers as it would have. */
  | { t: 'refused'; msg: AclMessage; to: string; outcome: DeliveryOutcome; seq?: number }
  /**
   * Sent directly to another worker, which was replaced before the message left the mailbox there: answered
   * `failure` WORKER_RESTARTED by the main thread, as a message it had handed that worker itself.
   */
  | { t: 'lost'; msg: AclMessage; to: string; worker: number }
  /** Messages the main thread delivered that have left their mailboxes. */
  | { t: 'taken'; seqs: number[] }
  | { t: 'tool-call'; id: number; agent: string; server: string; tool: string; args: Record<string, unknown> }
  /** `count` invocations, of which the first `durations.length` were timed, each this many ns (the others report 0). */
  | { t: 'invocations'; agent: string; kind: InvocationKind; outcome: InvocationOutcome; count: number; durations: number[] }
  /**
   * The same for agents with a figure slot, packed: (slot, kind index, outcome index, count, timed) per entry,
   * indices into INVOCATION_KINDS / INVOCATION_OUTCOMES, and in `durations` each entry's `timed` durations (ns)
   * one after the other, in entry order. One typed array clones far cheaper than an object per agent (a post of
   * 128 such objects every 20 ms was 3% of a busy worker's time).
   */
  | { t: 'invocation-cells'; cells: Float64Array; durations: Float64Array }
  | { t: 'trap'; agent: string; reason: TrapReason }
  | { t: 'state'; agent: string; from: AgentState | null; to: AgentState }
  | { t: 'log'; line: AgentLogLine }
  | { t: 'denied'; agent: string; what: string }
  /** A span of an invocation or tool call under a sampled trace (WorkerSetup.tracing), for the node's tracer. */
  | { t: 'span'; span: FinishedSpan }
  | { t: 'logger'; level: 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg?: string }
  /**
   * All figures of agents whose traps or last error changed in this batch; the counters of every agent are
   * in the figure pages, written without a post.
   */
  | { t: 'figures'; agents: { name: string; stats: AgentStats }[] }
  /** A page of figure slots (FIGURE_FIELDS numbers each), written by the worker, read by the main thread. */
  | { t: 'figure-page'; page: number; buffer: SharedArrayBuffer }
  /** The slot of an agent's figures in the pages (sent before the agent's first figures are written). */
  | { t: 'figure-slot'; agent: string; slot: number };

/**
 * An agent's counters in a figure page, at slot × FIGURE_FIELDS: written by its worker after each turn of the
 * scheduler (every flush), read by the main thread whenever asked, so queries never wait for a post and a
 * busy worker posts no figures at all. 8-byte aligned writes of doubles are not torn on the platforms Node
 * runs on; a read may mix two flushes' counters, which a later read corrects.
 */
export const FIGURE_FIELDS = 8;
export const FIGURE = { invocations: 0, traps: 1, fuel_used: 2, memory_pages: 3, messages_in: 4, messages_out: 5, local_mailbox_depth: 6 } as const;
export const INVOCATION_KINDS: readonly InvocationKind[] = ['init', 'message', 'timer', 'shutdown'];
export const INVOCATION_OUTCOMES: readonly InvocationOutcome[] = ['ok', 'error', 'trap'];
export const INVOCATION_CELL = 5;

/** Slots per page: 1,024 agents (64 KiB); a worker adds pages as its agents need them. */
export const FIGURE_PAGE_BITS = 10;
