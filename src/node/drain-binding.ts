// Wires a NodeDrain to the node's parts (runtime, store, directory, registry, routing links, placement) and
// serves `node.drain` / `node.undrain` to peers, so `caxton node drain --node ID` and `cluster upgrade` drive
// every node through the one they talk to. Peers are authenticated cluster members (mTLS), as for the
// agent operations they may already run here.
import type { AgentHost } from '../agents/agent-host.ts';
import type { ClusterService } from '../cluster/cluster-service.ts';
import { placementCandidates } from '../cluster/placement/candidates.ts';
import { ROUTING_PROTOCOL_VERSION } from '../cluster/routing/frames.ts';
import type { Config } from '../config/config.ts';
import type { ObservedAgentDirectory } from './registry-binding.ts';
import type { Router } from '../messaging/router.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentOperations, PeerRpc } from './agent-operations.ts';
import type { AgentService } from './agent-service.ts';
import type { DrainReportView } from '../api/cluster-services.ts';
import { NodeDrain } from './drain.ts';
import type { PeerRouting } from './peer-routing.ts';
import { describeError } from '../errors.ts';

/** A drain of a node with thousands of agents takes seconds; the peer asking waits this long for its report. */
export const DRAIN_REQUEST_TIMEOUT_MS = 10 * 60_000;

export interface DrainBindingParts {
  nodeId: string;
  config: Config;
  cluster: ClusterService;
  runtime: AgentHost;
  agents: AgentService;
  directory: ObservedAgentDirectory;
  router: Router;
  peerRouting: PeerRouting;
  agentOperations: AgentOperations;
  rpc: PeerRpc;
  logger: Logger;
}

export function bindDrain(parts: DrainBindingParts): NodeDrain {
  const { nodeId, config, cluster, runtime, agents, directory, router, peerRouting, agentOperations, rpc, logger } = parts;
  const drain = new NodeDrain({
    nodeId,
    localAgents: () => runtime.list().map((a) => a.name),
    handoverRecord: (name) => agents.handoverRecord(name),
    moduleOf: (name) => (runtime.has(name) ? runtime.info(name).module_sha256 : undefined),
    candidates: () => placementCandidates(cluster.members(), ROUTING_PROTOCOL_VERSION).filter((n) => n !== nodeId),
    setDraining: (on) => cluster.setDraining(on),
    handOver: (node, record) => agentOperations.handOver(node, record),
    routeTo: (name, node, capabilities) => directory.upsert(name, node, [...capabilities]),
    registry: cluster.registry,
    release: (name) => (runtime.has(name) ? runtime.release(name) : []),
    prepareRelease: runtime.prepareRelease ? (name) => (runtime.has(name) ? runtime.prepareRelease!(name) : Promise.resolve()) : undefined,
    forget: (name) => agents.forgetHandedOver(name),
    pruneModules: () => agents.pruneModules(),
    forward: (node, message, receiver) => peerRouting.send(node, message, receiver) === 'queued',
    undeliverable: (message, receiver, why) => router.reportUndelivered(message, receiver, 'NODE_UNREACHABLE', why),
    lingerMs: config.cluster.drain_linger_ms,
    concurrency: config.cluster.drain_concurrency,
    logger: logger.child({ layer: 'drain' }),
  });
  rpc.onRequest('node.drain', async (): Promise<{ ok: DrainReportView } | { error: { code: string; message: string } }> => {
    try {
      return { ok: await drain.drain() };
    } catch (error) {
      return { error: { code: 'INTERNAL', message: describeError(error) } };
    }
  });
  rpc.onRequest('node.undrain', () => {
    drain.undrain();
    return { ok: { node: nodeId, draining: false } };
  });
  return drain;
}
