// Prometheus metrics of one node, in a registry of its own (several nodes may share a test process).
//
// Hot-path counters do not go through prom-client on each increment: its `inc` hashes the label set every
// time (~0.3 µs). A LabelledCounter hands out cells, plain objects whose `inc` adds to a number; the cells
// are copied into the prom-client counter when Prometheus scrapes. Callers on the routing path keep a cell
// (`const queued = metrics.messagesRouted.child('queued')`) and pay one addition per message.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentState } from '../agents/agent-types.ts';

export class CounterCell {
  value = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}
  inc(amount = 1): void {
    this.value += amount;
  }
}

type CellTree = Map<string, CellTree | CounterCell>;

export class LabelledCounter {
  private readonly cells: CellTree = new Map();
  private readonly all: CounterCell[] = [];
  private readonly labelNames: readonly string[];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], known: readonly string[][] = []) {
    this.labelNames = labelNames;
    const all = this.all;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const cell of all) this.inc(cell.labels, cell.value);
      },
    });
    // Known label values are exported from the start, at 0, so that rate() works from the first increment.
    for (const values of known) this.child(...values);
  }

  /** The sum over every label set (read at scrape or figure time, never on the hot path). */
  total(): number {
    let sum = 0;
    for (const cell of this.all) sum += cell.value;
    return sum;
  }

  /** The cell for these label values, in the order of the label names; the same cell every time. */
  child(...values: string[]): CounterCell {
    if (values.length !== this.labelNames.length) {
      throw new Error(`expected ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${values.length}`);
    }
    let tree = this.cells;
    for (let i = 0; i < values.length - 1; i++) {
      let next = tree.get(values[i]) as CellTree | undefined;
      if (!next) tree.set(values[i], (next = new Map()));
      tree = next;
    }
    const last = values[values.length - 1];
    let cell = tree.get(last) as CounterCell | undefined;
    if (!cell) {
      cell = new CounterCell(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])));
      tree.set(last, cell);
      this.all.push(cell);
    }
    return cell;
  }
}

/** Label values exported at 0 from the start; other values are accepted and appear when first used. */
export const KNOWN_LABELS = {
  routedOutcomes: ['queued', 'mailbox_full', 'unavailable', 'not_found', 'node_unreachable', 'link_full'],
  invocationKinds: ['init', 'message', 'timer', 'shutdown'],
  invocationOutcomes: ['ok', 'error', 'trap'],
  trapReasons: ['fuel', 'memory', 'trap'],
  deadLetterReasons: ['AGENT_NOT_FOUND', 'MAILBOX_FULL', 'AGENT_UNAVAILABLE', 'AGENT_ERROR', 'NO_CLIENT_WAITING'],
  agentStates: ['deploying', 'running', 'draining', 'stopped', 'failed'] as AgentState[],
  conversationChanges: ['opened', 'ended', 'timed-out', 'rejected', 'expired', 'evicted'],
} as const;

/** Latency buckets in seconds from 1 µs to 1 s: a local hop is microseconds, a GC pause or a remote hop milliseconds. */
const MICRO_BUCKETS = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
  /** Labels on every series, e.g. { node: id } when several nodes report to one Prometheus job. */
  defaultLabels?: Record<string, string>;
}

export interface CaxtonMetrics {
  readonly registry: Registry;
  /** caxton_messages_routed_total{outcome}: one per delivery attempt (per resolved receiver). */
  readonly messagesRouted: LabelledCounter;
  /** caxton_agent_invocations_total{kind,outcome}: kind init|message|timer|shutdown, outcome ok|error|trap. */
  readonly agentInvocations: LabelledCounter;
  /** caxton_agent_traps_total{reason}: fuel|memory|trap, or another reason the runtime names. */
  readonly agentTraps: LabelledCounter;
  /** caxton_dead_letters_total{reason}. */
  readonly deadLetters: LabelledCounter;
  /** caxton_messages_total{performative,outcome}: delivery attempts by performative (kind) and outcome. */
  readonly messagesByPerformative: LabelledCounter;
  /** caxton_tool_calls_total{server,outcome}: outcome ok, or the error code the call failed with. */
  readonly toolCalls: LabelledCounter;
  /** caxton_tool_call_duration_seconds{server}. */
  readonly toolCallDuration: Histogram<'server'>;
  /** caxton_routing_duration_seconds: one routing decision (directory, checks, hand-off), 1 message in 64 timed. */
  readonly routingDuration: Histogram;
  /** caxton_agent_invocation_duration_seconds{kind}: message and timer invocations 1 in 64 timed, init and shutdown all. */
  readonly invocationDuration: Histogram<'kind'>;
  /** caxton_conversation_events_total{protocol,change}: opened, ended, timed-out, rejected, expired, evicted. */
  readonly conversationEvents: LabelledCounter;
  /** caxton_http_request_duration_seconds{method,route,status}; route is the route pattern, not the URL. */
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /** caxton_mailbox_depth: messages waiting in all mailboxes of this node, read at scrape time. */
  setMailboxDepthSource(source: () => number): void;
  /** caxton_agents{state}: agents of this node per state, read at scrape time. */
  setAgentCountSource(source: () => Partial<Record<AgentState, number>>): void;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(options: MetricsOptions = {}): CaxtonMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const k = KNOWN_LABELS;

  let mailboxDepth: () => number = () => 0;
  let agentCounts: () => Partial<Record<AgentState, number>> = () => ({});
  new Gauge({
    name: 'caxton_mailbox_depth',
    help: 'Messages waiting in the mailboxes of the agents of this node.',
    registers: [registry],
    collect() {
      this.set(mailboxDepth());
    },
  });
  new Gauge({
    name: 'caxton_agents',
    help: 'Agents of this node by lifecycle state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = agentCounts();
      for (const state of k.agentStates) this.set({ state }, counts[state] ?? 0);
    },
  });

  return {
    registry,
    messagesRouted: new LabelledCounter(
      registry,
      'caxton_messages_routed_total',
      'Delivery attempts by outcome (one per resolved receiver).',
      ['outcome'],
      k.routedOutcomes.map((o) => [o]),
    ),
    agentInvocations: new LabelledCounter(
      registry,
      'caxton_agent_invocations_total',
      'Agent invocations by kind and outcome.',
      ['kind', 'outcome'],
      k.invocationKinds.flatMap((kind) => k.invocationOutcomes.map((outcome) => [kind, outcome])),
    ),
    agentTraps: new LabelledCounter(
      registry,
      'caxton_agent_traps_total',
      'Agent instances thrown away after a trap, by reason.',
      ['reason'],
      k.trapReasons.map((r) => [r]),
    ),
    deadLetters: new LabelledCounter(
      registry,
      'caxton_dead_letters_total',
      'Messages written to the dead-letter store, by reason.',
      ['reason'],
      k.deadLetterReasons.map((r) => [r]),
    ),
    httpRequestDuration: new Histogram({
      name: 'caxton_http_request_duration_seconds',
      help: 'REST API request duration.',
      labelNames: ['method', 'route', 'status'] as const,
      // 0.5 ms to 10 s: most calls are sub-millisecond, a deploy compiles and instruments for seconds.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    messagesByPerformative: new LabelledCounter(
      registry,
      'caxton_messages_total',
      'Delivery attempts by performative and outcome (queued = delivered to a mailbox, a client or a link).',
      ['performative', 'outcome'],
    ),
    toolCalls: new LabelledCounter(registry, 'caxton_tool_calls_total', 'Tool calls by MCP server and outcome (ok, or the error code).', ['server', 'outcome']),
    toolCallDuration: new Histogram({
      name: 'caxton_tool_call_duration_seconds',
      help: 'Tool call duration at the gateway boundary, by MCP server.',
      labelNames: ['server'] as const,
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [registry],
    }),
    routingDuration: new Histogram({
      name: 'caxton_routing_duration_seconds',
      help: 'Routing decision latency (one message in 64 is timed).',
      buckets: MICRO_BUCKETS,
      registers: [registry],
    }),
    invocationDuration: new Histogram({
      name: 'caxton_agent_invocation_duration_seconds',
      help: 'Agent invocation duration by kind (message and timer invocations: one in 64 is timed).',
      labelNames: ['kind'] as const,
      buckets: MICRO_BUCKETS,
      registers: [registry],
    }),
    conversationEvents: new LabelledCounter(
      registry,
      'caxton_conversation_events_total',
      'Conversation changes by interaction protocol.',
      ['protocol', 'change'],
    ),
    setMailboxDepthSource: (source) => void (mailboxDepth = source),
    setAgentCountSource: (source) => void (agentCounts = source),
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
