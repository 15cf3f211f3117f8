// The cluster half of what a node serves its API and MCP tools (ClusterServices): the members, the status,
// drain and leave, join tokens, the live performance figures, the gossip keys. It reads the node at each call:
// the cluster and the drain are wired after the node is built (cluster-wiring.ts), and absent without gossip
// or without routing links.
import type { AgentHost } from '../agents/agent-host.ts';
import type {
  ClusterMemberView,
  ClusterServices,
  ClusterStatusView,
  DrainReportView,
  GossipKeyOp,
  GossipKeyReport,
  NodePerformance,
  PerformanceFigure,
} from '../api/cluster-services.ts';
import type { ClusterService } from '../cluster/cluster-service.ts';
import { isDraining, memberProtocol } from '../cluster/placement/candidates.ts';
import type { Config } from '../config/config.ts';
import { CaxtonError } from '../errors.ts';
import type { PerformanceRecorder } from '../observability/performance-recorder.ts';
import { agentThreadFigures } from './agent-threads.ts';
import { agentCounts, type ClusterAgentSources } from './cluster-agents.ts';
import type { NodeDrain } from './drain.ts';
import { askPeer } from './peer-request.ts';
import { liveFigures, PerformanceGathering } from './performance-figures.ts';

/** What these services read of the node (CaxtonNode). */
export interface ClusterServicesNode {
  readonly nodeId: string;
  readonly version: string;
  readonly config: Config;
  readonly runtime: AgentHost;
  readonly performance: PerformanceRecorder;
  readonly cluster: ClusterService | undefined;
  readonly drain: NodeDrain | undefined;
  readonly isStopping: boolean;
  agentSources(): ClusterAgentSources;
  /** Closes the API once the requests it accepted are answered, then stops the node. */
  finishRequestsThenStop(): Promise<void>;
}

const NO_GOSSIP = 'this node runs without gossip';
const NO_DRAIN = 'this node has no routing links: there is no other node to hand its agents to';

export class NodeClusterServices implements ClusterServices {
  #gathering: PerformanceGathering | undefined;

  constructor(private readonly node: ClusterServicesNode) {}

  /** Once the cluster is wired: other members' `performance` requests are answered from now, not from the first local ask. */
  answerPerformanceRequests(): void {
    this.#gathering = new PerformanceGathering(this.node.nodeId, () => this.clusterPerformance(), this.node.cluster);
  }

  clusterMembers(): ClusterMemberView[] {
    const { node } = this;
    if (!node.cluster) {
      return [{ id: node.nodeId, address: node.config.cluster.bind_addr, state: 'alive', agents: node.runtime.list().length, version: node.version }];
    }
    const counts = agentCounts(node.agentSources());
    return node.cluster.members().map((m) => ({
      id: m.id,
      address: m.address,
      state: m.state,
      agents: counts.get(m.id) ?? 0,
      version: m.tags.caxton ?? 'unknown',
      ...(isDraining(m) ? { draining: true } : {}),
      ...(m.tags.api !== undefined ? { api: m.tags.api } : {}),
      ...(m.tags.started !== undefined && Number.isFinite(Number(m.tags.started)) ? { started_at: Number(m.tags.started) } : {}),
      ...(m.tags.caxton !== undefined ? { protocol: memberProtocol(m) } : {}),
    }));
  }

  async drainNode(nodeId?: string): Promise<DrainReportView> {
    const { node } = this;
    if (nodeId === undefined || nodeId === node.nodeId) {
      if (!node.drain) throw new CaxtonError('UNAVAILABLE', NO_DRAIN);
      return node.drain.drain();
    }
    return askPeer<DrainReportView>(node.cluster, nodeId, 'node.drain');
  }

  async undrainNode(nodeId?: string): Promise<{ node: string; draining: false }> {
    const { node } = this;
    if (nodeId === undefined || nodeId === node.nodeId) {
      if (!node.drain) throw new CaxtonError('UNAVAILABLE', NO_DRAIN);
      node.drain.undrain();
      return { node: node.nodeId, draining: false };
    }
    return askPeer(node.cluster, nodeId, 'node.undrain');
  }

  /** Drains, answers, then leaves and stops: the process ends once stop() is done (run-server.ts). */
  async leaveCluster(): Promise<DrainReportView> {
    const { node } = this;
    if (!node.cluster) throw new CaxtonError('UNAVAILABLE', NO_GOSSIP);
    if (node.isStopping) throw new CaxtonError('CONFLICT', 'this node is already stopping');
    const report = node.drain
      ? await node.drain.drain()
      : { node: node.nodeId, moved: 0, owners: {}, pinned: [], failed: [], forwarded: 0, undeliverable: 0, duration_ms: 0 };
    // After the answer has gone out: stopping closes the API, which would cut it.
    setTimeout(() => void node.finishRequestsThenStop(), 50);
    return report;
  }

  clusterJoinToken(): string {
    if (!this.node.cluster) throw new CaxtonError('UNAVAILABLE', NO_GOSSIP);
    return this.node.cluster.createJoinToken();
  }

  clusterStatus(): ClusterStatusView {
    const { node } = this;
    const agents = [...agentCounts(node.agentSources()).values()].reduce((sum, n) => sum + n, 0);
    if (!node.cluster) return { health: 'healthy', mode: 'read-write', alive: 1, expected: 1, quorum: 1, agents };
    const { health, mode, alive, expected, quorum } = node.cluster.status();
    return { health, mode, alive, expected, quorum, agents };
  }

  clusterPerformance(): PerformanceFigure[] {
    const { node } = this;
    return [...liveFigures(node.performance, node.config, node.cluster), ...agentThreadFigures(node.runtime)];
  }

  clusterPerformanceAll(): Promise<NodePerformance[]> {
    return this.#gatheringOf().all();
  }

  gossipKeys(op: GossipKeyOp, key?: string): Promise<GossipKeyReport> {
    if (!this.node.cluster) throw new CaxtonError('UNAVAILABLE', NO_GOSSIP);
    return this.node.cluster.keyOperation(op, key);
  }

  #gatheringOf(): PerformanceGathering {
    this.#gathering ??= new PerformanceGathering(this.node.nodeId, () => this.clusterPerformance(), this.node.cluster);
    return this.#gathering;
  }
}
