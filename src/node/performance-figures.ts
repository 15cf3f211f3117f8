// `caxton cluster performance`: the figures this node measured (src/observability/performance-recorder.ts)
// beside the seed's targets, then the gossip and registry counters; and every node's, gathered over the
// routing links (RPC `performance`) for `--all`.
import type { NodePerformance, PerformanceFigure } from '../api/cluster-services.ts';
import type { ClusterService } from '../cluster/cluster-service.ts';
import type { Config } from '../config/config.ts';
import type { PerformanceRecorder } from '../observability/performance-recorder.ts';
import { ROUTING_SAMPLE_EVERY, THROUGHPUT_WINDOW_SECONDS } from '../observability/performance-recorder.ts';
import { clusterFigures } from './cluster-agents.ts';
import { isLive } from '../cluster/membership/messages.ts';

/** How long `--all` waits for each node's figures. */
const PERFORMANCE_RPC_TIMEOUT_MS = 3_000;

const round = (value: number | null, digits = 1): number | null => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);

/** The live figures with the seed's targets (coordination-first overview, "Performance Characteristics"). */
export function liveFigures(p: PerformanceRecorder, config: Config, cluster: ClusterService | undefined): PerformanceFigure[] {
  const routingNote = `one routing decision in ${ROUTING_SAMPLE_EVERY} of the messages agents send, last ${p.routing.count} timed`;
  const figures: PerformanceFigure[] = [
    { name: 'routing_latency_p50', value: round(p.routing.percentile(50), 2), unit: 'µs', target: '< 100 µs', note: routingNote },
    { name: 'routing_latency_p99', value: round(p.routing.percentile(99), 2), unit: 'µs', target: '< 1000 µs', note: routingNote },
    {
      name: 'remote_routing_p50',
      value: round(p.remoteRouting.percentile(50), 2),
      unit: 'ms',
      target: '< 5 ms',
      note: `a batch written to a peer's routing link until the peer acknowledged it (a round trip), last ${p.remoteRouting.count}`,
    },
    {
      name: 'remote_routing_p99',
      value: round(p.remoteRouting.percentile(99), 2),
      unit: 'ms',
      target: '< 50 ms',
      note: `a batch written to a peer's routing link until the peer acknowledged it (a round trip), last ${p.remoteRouting.count}`,
    },
    {
      name: 'throughput',
      value: Math.round(p.throughput.perSecond()),
      unit: 'msg/s',
      target: '100000 msg/s',
      note: `delivery attempts (one per receiver) over the last ${THROUGHPUT_WINDOW_SECONDS} s`,
    },
    { name: 'agent_startup_p50', value: round(p.agentStart.percentile(50), 2), unit: 'ms', target: '< 10 ms', note: `instantiate + agent_init, last ${p.agentStart.count}` },
    { name: 'agent_startup_p99', value: round(p.agentStart.percentile(99), 2), unit: 'ms', target: '< 100 ms', note: `instantiate + agent_init, last ${p.agentStart.count}` },
    {
      name: 'failure_detection_p50',
      value: round(p.failureDetection.percentile(50), 2),
      unit: 's',
      target: '< 3 s (goal)',
      note: `first suspicion to declared dead, last ${p.failureDetection.count} failures seen`,
    },
    {
      name: 'failure_detection_p99',
      value: round(p.failureDetection.percentile(99), 2),
      unit: 's',
      target: '< 5 s',
      note: `first suspicion to declared dead, last ${p.failureDetection.count} failures seen`,
    },
  ];
  if (cluster) {
    const convergenceNote = `a peer's registry write (its clock) until this node learnt it by gossip (this node's clock), last ${p.gossipConvergence.count} writes`;
    figures.push(
      { name: 'gossip_convergence_p50', value: round(p.gossipConvergence.percentile(50), 1), unit: 'ms', target: '< 2000 ms (goal)', note: convergenceNote },
      { name: 'gossip_convergence_p99', value: round(p.gossipConvergence.percentile(99), 1), unit: 'ms', target: '< 5000 ms', note: convergenceNote },
    );
    const members = cluster.members().filter((m) => isLive(m.state)).length;
    const g = config.gossip;
    const bound = (g.retransmit_mult * Math.ceil(Math.log10(members + 1)) * g.gossip_interval_ms) / 1000;
    figures.push({
      name: 'gossip_convergence_bound',
      value: round(bound, 2),
      unit: 's',
      target: '< 5 s',
      note: `retransmit_mult × ⌈log10(${members} + 1)⌉ × gossip_interval: how long a change is gossiped (computed from settings; the measured figures are gossip_convergence_p50/p99)`,
    });
    figures.push(...clusterFigures(cluster));
  }
  return figures;
}

/** The RPC the routing links answer, and `--all`: this node's figures first, then each live peer's (or its error). */
export class PerformanceGathering {
  constructor(
    private readonly nodeId: string,
    private readonly local: () => PerformanceFigure[],
    private readonly cluster: ClusterService | undefined,
  ) {
    cluster?.routing?.onRequest('performance', () => ({ ok: this.local() }));
  }

  async all(): Promise<NodePerformance[]> {
    const here: NodePerformance = { node: this.nodeId, figures: this.local() };
    const links = this.cluster?.routing;
    if (!this.cluster || !links) return [here];
    const peers = this.cluster
      .members()
      .filter((m) => !m.isSelf && m.state === 'alive' && m.tags.route !== undefined)
      .map((m) => m.id);
    const answers = await Promise.all(
      peers.map(async (node): Promise<NodePerformance> => {
        try {
          const reply = (await links.request(node, 'performance', {}, PERFORMANCE_RPC_TIMEOUT_MS)) as { ok?: unknown };
          if (!Array.isArray(reply?.ok)) return { node, figures: [], error: 'answered with something unreadable' };
          return { node, figures: reply.ok.filter(isFigure) };
        } catch (error) {
          return { node, figures: [], error: (error as Error).message };
        }
      }),
    );
    return [here, ...answers.sort((a, b) => a.node.localeCompare(b.node))];
  }
}

function isFigure(value: unknown): value is PerformanceFigure {
  const f = value as PerformanceFigure;
  return typeof f === 'object' && f !== null && typeof f.name === 'string' && typeof f.unit === 'string' && typeof f.target === 'string' && (f.value === null || typeof f.value === 'number');
}
