// The cluster half of a node's start: gossip membership, the agent registry, routing links, failover, drain
// and the answers owed when a member dies or leaves. Called by CaxtonNode.start once the agents are restored;
// each part is set on the node as soon as it exists, so a failure part-way is undone by node.stop().
import { ClusterService } from '../cluster/cluster-service.ts';
import type { Logger } from '../observability/logger.ts';
import { registerClusterMetrics } from './cluster-metrics.ts';
import { bindDrain } from './drain-binding.ts';
import { bindFailover } from './failover-binding.ts';
import type { CaxtonNode } from './node.ts';
import { RegistryBinding } from './registry-binding.ts';
import { registerRemoteAwaitsMetrics } from './remote-awaits-metrics.ts';
import { bindRouting } from './routing-binding.ts';
import { answerWaitsOnDeath, remoteNodeOf } from './waits-on-death.ts';
import { answerWaitsOnLeave } from './waits-on-leave.ts';

export async function wireCluster(node: CaxtonNode, logger: Logger): Promise<void> {
  const { config } = node;
  node.cluster = await ClusterService.start({
    config,
    nodeId: node.nodeId,
    version: node.version,
    logger: logger.child({ layer: 'cluster' }),
    onMemberEvent: (event) => {
      node.performance.memberChanged(event.id, event.state);
      node.events.publish('member', { ...event });
    },
  });
  node.performance.useClusterHistograms(registerClusterMetrics(node.metrics.registry, node.cluster));
  node.cluster.registryGossip.onConvergence((ms) => node.performance.recordConvergence(ms));
  registerRemoteAwaitsMetrics(node.metrics.registry, node.remoteAwaits);
  node.cluster.routing?.onAckLatency((_peer, ms) => node.performance.remoteRouting.record(ms));
  node.registryBinding = new RegistryBinding({
    registry: node.cluster.registry,
    directory: node.directory,
    localAgent: (name) => (node.runtime.has(name) ? node.runtime.info(name) : undefined),
    localAgents: () => node.runtime.list(),
    pinnedOf: (name) => node.state.agents.get(name)?.spec.node,
    failoverOf: (name) => node.state.agents.get(name)?.spec.failover,
    events: node.events,
    logger: logger.child({ layer: 'registry' }),
    handingOver: (name) => node.drain?.handingOver(name) ?? false,
  });
  node.registryBinding.start();
  const bound = bindRouting({
    nodeId: node.nodeId,
    config,
    cluster: node.cluster,
    router: node.router,
    runtime: node.runtime,
    agents: node.agents,
    state: node.state,
    logger,
    handovers: node.handovers,
    inbox: node.inbox,
  });
  node.peerRouting = bound?.peerRouting;
  if (node.tracing && node.peerRouting) node.router.setRemoteRoute(node.tracing.remoteRoute(node.peerRouting));
  node.agentOperations = bound?.agentOperations;
  answerWaitsOnDeath({
    events: node.events,
    inbox: node.inbox,
    agents: { router: node.router, awaits: node.remoteAwaits, directory: node.directory, nodeId: node.nodeId },
    onAnswered: (gone, state, clients, agents) =>
      logger.info({ node: gone, state, clients, agents }, 'messages awaiting agents of a gone node answered NODE_FAILED'),
  });
  const routing = node.cluster.routing;
  if (routing) answerWaitsOnLeave({ events: node.events, inbox: node.inbox, readsOrigins: (peer) => routing.readsOrigins(peer), nodeOf: remoteNodeOf(node.directory) });
  node.failover = bindFailover({ ...failoverParts(node), cluster: node.cluster, registryBinding: node.registryBinding });
  if (bound && node.cluster.routing) {
    node.drain = bindDrain({
      nodeId: node.nodeId,
      config,
      cluster: node.cluster,
      runtime: node.runtime,
      agents: node.agents,
      directory: node.directory,
      router: node.router,
      peerRouting: bound.peerRouting,
      agentOperations: bound.agentOperations,
      rpc: node.cluster.routing,
      logger,
    });
  }
}

function failoverParts(node: CaxtonNode) {
  return {
    nodeId: node.nodeId,
    config: node.config,
    agents: node.agents,
    // Not while a deploy or adoption of it is under way here, nor while a drain hands it over: the agent
    // then briefly runs on two nodes on purpose, and failover must not settle that "duplicate".
    runsHere: (name: string) => node.runtime.has(name) && !node.agents.isBusy(name) && !(node.drain?.handingOver(name) ?? false),
    localNames: () => node.runtime.list().map((a) => a.name),
    prepareModule: (sha256: string, bytes: Uint8Array, memoryPages: number) => node.runtime.prepareModule(sha256, bytes, memoryPages),
    directory: node.directory,
    state: node.state,
    events: node.events,
    logger: node.logger,
  };
}
