// Which AgentHost runs this node's agents (config agents.workers): the in-thread AgentRuntime (0), or a pool
// of worker threads whose deliveries the router hears about through DeliveryReports. Also the per-thread
// gauges on /metrics and the per-thread lines of `caxton cluster performance`.
import { availableParallelism } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import type { AgentHost } from '../agents/agent-host.ts';
import type { FinishedSpanRecorder, InvocationTracer } from '../agents/invocation-tracer.ts';
import type { ToolGateway } from '../agents/tool-gateway.ts';
import { AgentRuntime, type RuntimeLogger, type RuntimeObserver } from '../agents/agent-runtime.ts';
import { ModuleCache } from '../agents/module-cache.ts';
import type { RuntimeLimits } from '../agents/runtime-defaults.ts';
import { AgentWorkerPool } from '../agents/workers/agent-worker-pool.ts';
import type { PerformanceFigure } from '../api/cluster-services.ts';
import type { Config } from '../config/config.ts';
import type { MessageSink } from '../messaging/delivery.ts';
import type { Router } from '../messaging/router.ts';
import type { RouterObserver } from '../messaging/router-ports.ts';
import type { CounterCell } from '../observability/metrics.ts';

/** `auto`: the cores the process may use minus one for the main thread, at least one. */
export function agentWorkerCount(setting: number | 'auto'): number {
  if (setting !== 'auto') return setting;
  return Math.max(1, availableParallelism() - 1);
}

export interface AgentThreadParts {
  nodeId: string;
  config: Config;
  /** Resolved on first use: the router and the runtime refer to each other. */
  router: () => Router;
  routerObserver: RouterObserver;
  /** Whether the conversation history records a conversation (observers.ts). */
  historyTracks(conversationId: string): boolean;
  /** messages_routed{outcome="queued"}: deliveries inside a worker that are counted, not observed one by one. */
  routedQueued: CounterCell;
  logger: RuntimeLogger;
  observer: Partial<RuntimeObserver>;
  /** Wraps the sink agents send through (tracing, routing-latency timing). */
  wrapSink?: (sink: MessageSink) => MessageSink;
  /** The node's MCP gateway: agents' tool calls, from whichever thread they run on. */
  toolGateway?: ToolGateway;
  /** Spans of invocations and tool calls, made in-thread or recorded from workers; absent when tracing is off. */
  tracer?: InvocationTracer & FinishedSpanRecorder;
}

export function createAgentHost(parts: AgentThreadParts): AgentHost {
  const { config } = parts;
  const limits: Partial<RuntimeLimits> = {
    maxMessageBytes: config.messages.max_bytes,
    maxTraps: config.agents.max_traps,
    trapWindowMs: config.agents.trap_window_ms,
    maxInvocationMs: config.agents.max_invocation_ms,
    sendRate: config.agents.send_rate,
    sendBurst: config.agents.send_burst,
    logRate: config.agents.log_rate,
    logBurst: config.agents.log_burst,
  };
  const cache = new ModuleCache({ maxTableElements: config.agents.max_table_elements });
  const direct: MessageSink = { route: (message) => parts.router().route(message) };
  const sink = parts.wrapSink ? parts.wrapSink(direct) : direct;
  const workers = agentWorkerCount(config.agents.workers);
  if (workers === 0) {
    return new AgentRuntime({
      nodeId: parts.nodeId,
      sink,
      toolGateway: parts.toolGateway,
      tracer: parts.tracer,
      logger: parts.logger,
      observer: parts.observer,
      limits,
      cache,
      maxLiveInstances: config.agents.max_live_instances,
    });
  }
  return new AgentWorkerPool({
    nodeId: parts.nodeId,
    workers,
    sink,
    toolGateway: parts.toolGateway,
    reports: {
      routed: (message, receiver) => parts.routerObserver.onRouted(message, receiver, 'queued'),
      routedCount: (count) => parts.routedQueued.inc(count),
      refused: (message, receiver, outcome) => parts.router().reportRefused(message, receiver, outcome),
      lost: (message, receiver, text) => parts.router().reportUndelivered(message, receiver, 'WORKER_RESTARTED', text),
      tracks: (conversationId) => parts.historyTracks(conversationId),
    },
    logger: parts.logger,
    observer: parts.observer,
    limits,
    cache,
    maxLiveInstances: config.agents.max_live_instances,
    stallMs: config.agents.worker_stall_ms,
    // Deliveries inside a worker that the conversation history would record are reported to the router's
    // observer; the rest cross as counts (they then miss the sampled `message` events).
    observeLocal: config.state.conversation_log,
    spans: parts.tracer,
  });
}

/** caxton_agent_thread_* gauges, one series per thread, read at scrape time. */
export function registerAgentThreadMetrics(registry: Registry, host: AgentHost): void {
  const gauge = (name: string, help: string, value: (f: ReturnType<AgentHost['threadFigures']>[number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['thread'],
      registers: [registry],
      collect() {
        this.reset();
        for (const figure of host.threadFigures()) this.set({ thread: figure.thread }, value(figure));
      },
    });
  };
  gauge('caxton_agent_thread_agents', 'Agents per agent thread (worker-N, or main when agents.workers is 0).', (f) => f.agents);
  gauge('caxton_agent_thread_messages_in', 'Messages handed to an agent thread by the main thread.', (f) => f.messages_in);
  gauge('caxton_agent_thread_messages_out', 'Messages an agent thread sent to the main thread to route.', (f) => f.messages_out);
  gauge('caxton_agent_thread_messages_local', 'Messages between two agents of one worker that never left it.', (f) => f.messages_local);
  gauge('caxton_agent_thread_messages_direct', 'Messages sent to an agent worker straight from another worker (direct channel), not through the main thread.', (f) => f.messages_direct ?? 0);
  gauge('caxton_agent_thread_restarts', 'Times an agent worker was replaced (stuck past agents.worker_stall_ms, or crashed).', (f) => f.restarts);
  gauge('caxton_agent_thread_heap_used_bytes', "An agent worker's V8 heap in use (0 until first read).", (f) => f.heap_used_bytes);
}

/** Per-thread lines for `caxton cluster performance`: agents and restarts of each worker. */
export function agentThreadFigures(host: AgentHost): PerformanceFigure[] {
  const figures: PerformanceFigure[] = [];
  for (const f of host.threadFigures()) {
    if (f.thread === 'main') continue;
    figures.push({ name: `agents_on_${f.thread.replace('-', '_')}`, value: f.agents, unit: 'agents', target: 'spread evenly' });
    figures.push({ name: `restarts_of_${f.thread.replace('-', '_')}`, value: f.restarts, unit: 'restarts', target: '0' });
  }
  return figures;
}
