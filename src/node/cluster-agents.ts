// The agents of the whole cluster as the API shows them: this node's own from its runtime (in full), every
// other node's from the cluster registry, each with the state of its node as the membership sees it.
import type { AgentRecord } from '../cluster/registry/agent-record.ts';
import type { AgentRegistry } from '../cluster/registry/agent-registry.ts';
import type { PerformanceFigure } from '../api/cluster-services.ts';
import type { ClusterService } from '../cluster/cluster-service.ts';
import { toolGrants } from './registry-binding.ts';
import type { AgentInfo, AgentNodeState, AgentView, RemoteAgentInfo } from './services.ts';

export interface ClusterAgentSources {
  nodeId: string;
  /** This node's agents, from its runtime. */
  local: () => AgentInfo[];
  localAgent: (name: string) => AgentInfo | undefined;
  /** Absent on a node without gossip. */
  registry: AgentRegistry | undefined;
  /** Member states by node id. */
  nodeStates: () => Map<string, AgentNodeState>;
}

export function listClusterAgents(sources: ClusterAgentSources, filter: { node?: string; capability?: string } = {}): AgentView[] {
  const local = sources.local();
  const out: AgentView[] = local.map((a) => ({ ...a, node_state: 'alive' as const }));
  if (sources.registry) {
    const localNames = new Set(local.map((a) => a.name));
    const states = sources.nodeStates();
    for (const record of sources.registry.list()) {
      if (record.node === sources.nodeId || localNames.has(record.name)) continue;
      out.push(remoteView(record, states.get(record.node) ?? 'unknown'));
    }
  }
  return out
    .filter((a) => (filter.node === undefined || a.node === filter.node) && (filter.capability === undefined || a.capabilities.includes(filter.capability)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A local agent, else the registry's record of a remote one; undefined when the cluster knows none. */
export function findClusterAgent(sources: ClusterAgentSources, name: string): AgentView | undefined {
  const local = sources.localAgent(name);
  if (local) return local;
  const record = sources.registry?.get(name);
  if (!record || record.node === sources.nodeId) return undefined;
  return remoteView(record, sources.nodeStates().get(record.node) ?? 'unknown');
}

/** Agents per node: this node's from its runtime, the others' from the registry. */
export function agentCounts(sources: ClusterAgentSources): Map<string, number> {
  const counts = sources.registry?.countByNode() ?? new Map<string, number>();
  counts.set(sources.nodeId, sources.local().length);
  return counts;
}

function remoteView(record: AgentRecord, nodeState: AgentNodeState): RemoteAgentInfo {
  const view: RemoteAgentInfo = {
    name: record.name,
    node: record.node,
    node_state: nodeState,
    state: nodeState === 'dead' || nodeState === 'left' ? 'unplaced' : record.state,
    version: record.version,
    capabilities: record.capabilities,
    module_sha256: record.module_sha256,
    tools: toolGrants(record.tools),
    limits: record.limits,
  };
  if (record.pinned !== undefined) view.pinned = record.pinned;
  return view;
}

/** What `cluster performance` shows today: gossip traffic since start, and the registry's figures. */
export function clusterFigures(cluster: ClusterService): PerformanceFigure[] {
  const t = cluster.traffic();
  const perSecond = (n: number): number => (t.seconds > 0 ? Math.round(n / t.seconds) : 0);
  return [
    { name: 'gossip_bytes_sent_per_second', value: perSecond(t.bytesSent), unit: 'B/s', target: 'n/a' },
    { name: 'gossip_bytes_received_per_second', value: perSecond(t.bytesReceived), unit: 'B/s', target: 'n/a' },
    { name: 'gossip_bytes_sent', value: t.bytesSent, unit: 'B', target: 'n/a' },
    { name: 'gossip_bytes_received', value: t.bytesReceived, unit: 'B', target: 'n/a' },
    { name: 'gossip_packets_sent', value: t.packetsSent, unit: 'packets', target: 'n/a' },
    ...registryFigures(cluster),
  ];
}

function registryFigures(cluster: ClusterService): PerformanceFigure[] {
  const r = cluster.registry.stats();
  const g = cluster.registryGossip.stats;
  const c = cluster.registryGossip.convergenceStats;
  return [
    { name: 'registry_agents', value: r.records, unit: 'agents', target: 'n/a' },
    { name: 'registry_tombstones', value: r.tombstones, unit: 'entries', target: 'n/a' },
    { name: 'registry_lamport', value: r.lamport, unit: 'ticks', target: 'n/a' },
    { name: 'registry_updates_received', value: g.received, unit: 'updates', target: 'n/a' },
    { name: 'registry_updates_left_to_push_pull', value: g.skippedQueueFull + g.skippedTooLarge, unit: 'updates', target: '0' },
    { name: 'registry_entries_refused_full', value: r.refusedFull, unit: 'entries', target: '0' },
    { name: 'registry_updates_refused', value: g.refused, unit: 'updates', target: '0', note: 'gossiped registry updates and stamps refused unread: larger than any record makes, or not shaped as one' },
    { name: 'registry_stale_entries_refuted', value: r.refuted, unit: 'entries', target: 'n/a' },
    { name: 'registry_entries_refused_ahead', value: r.refusedAhead, unit: 'entries', target: '0', note: "a peer's write stamped with a Lamport time beyond what the cluster could have written by now: forged or corrupt, refused" },
    { name: 'registry_stamps_received', value: g.stampsReceived, unit: 'stamps', target: 'n/a', note: 'when a peer made a write, gossiped beside it: what convergence is measured from' },
    { name: 'registry_stamps_skipped', value: g.stampsSkipped, unit: 'stamps', target: 'n/a', note: 'writes left unmeasured because registry stamps filled their share of the gossip queue' },
    { name: 'gossip_convergence_clock_skewed', value: c.clockSkewed, unit: 'samples', target: '0', note: "a peer's write stamped later than this node learnt it: the peer's clock is ahead (recorded as 0 ms)" },
    { name: 'gossip_convergence_implausible', value: c.implausible, unit: 'samples', target: '0', note: 'a write learnt over 10 minutes after its stamp: a clock far off (or a forged stamp), not recorded' },
  ];
}
