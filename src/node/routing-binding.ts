// Plugs the routing links into the node: the router's hop to other nodes (PeerRouting) and agent operations
// from any node (AgentOperations), both keyed on where the registry places each agent. Without routing TLS
// material there are no links, and the node stays a single node for messages and operations.
import type { AgentHost } from '../agents/agent-host.ts';
import type { ClusterService } from '../cluster/cluster-service.ts';
import type { Config } from '../config/config.ts';
import type { ClientInbox } from '../messaging/client-inbox.ts';
import { ClientOrigins } from '../messaging/client-origins.ts';
import type { Router } from '../messaging/router.ts';
import type { Logger } from '../observability/logger.ts';
import type { NodeState } from '../state/node-state.ts';
import { AgentOperations } from './agent-operations.ts';
import type { AgentService } from './agent-service.ts';
import { PeerRouting } from './peer-routing.ts';
import { isDraining, placementCandidates } from '../cluster/placement/candidates.ts';
import { decodeTags } from '../cluster/node-tags.ts';
import { ROUTING_PROTOCOL_VERSION } from '../cluster/routing/frames.ts';
import type { HandoverLedger } from './handover-ledger.ts';

/** Replies for API clients that wrote from another node: where each waits, remembered per conversation. */
const CLIENT_ORIGINS = {
  /** One entry per (client, conversation) crossing nodes: ~150 B each, so 100,000 is ~15 MB at most. */
  maxEntries: 100_000,
  /** At least api.max_wait_ms: a reply later than the longest wait finds nobody anyway. */
  minTtlMs: 120_000,
} as const;

export interface RoutingBindingParts {
  nodeId: string;
  config: Config;
  cluster: ClusterService;
  router: Router;
  runtime: AgentHost;
  agents: AgentService;
  state: NodeState;
  logger: Logger;
  /** Agents adopted from draining nodes: their forwards are accepted from those nodes. */
  handovers: HandoverLedger;
  /** API clients waiting here: a reply for one is taken from whichever node its agent answers from now. */
  inbox?: Pick<ClientInbox, 'waitsFor'>;
}

/** The hop and the operations over the cluster's routing links; undefined when the node has none. */
export function bindRouting(parts: RoutingBindingParts): { peerRouting: PeerRouting; agentOperations: AgentOperations } | undefined {
  const { nodeId, config, cluster, router, runtime, agents, state, logger, handovers, inbox } = parts;
  const links = cluster.routing;
  if (!links) return undefined;
  const nodeOf = (name: string): string | undefined => cluster.registry.get(name)?.node;
  const peerRouting = new PeerRouting({
    nodeId,
    links,
    router,
    origins: new ClientOrigins({ maxEntries: CLIENT_ORIGINS.maxEntries, ttlMs: Math.max(CLIENT_ORIGINS.minTtlMs, config.api.max_wait_ms) }),
    deadLetters: state.deadLetters,
    nodeOf,
    forwardsFor: (from, receiver) => handovers.forwardsFor(from, receiver),
    isDraining: (node) => {
      const member = cluster.membership.member(node);
      return member !== undefined && isDraining({ tags: decodeTags(member.meta) });
    },
    ...(inbox ? { clientWaits: (client: string, conversationId: string) => inbox.waitsFor(client, conversationId) } : {}),
    logger: logger.child({ layer: 'routing' }),
  });
  router.setRemoteRoute(peerRouting);
  const agentOperations = new AgentOperations({
    nodeId,
    agents,
    local: { has: (n) => runtime.has(n), info: (n) => runtime.info(n), logs: (n, after, limit) => runtime.logs(n, after, limit) },
    modules: { get: (sha) => state.modules.get(sha), size: (sha) => state.modules.size(sha) },
    nodeOf,
    // Draining and incompatible members are skipped (placement/candidates.ts), alike on every node.
    liveNodes: () => placementCandidates(cluster.members(), ROUTING_PROTOCOL_VERSION),
    rpc: links,
    logger: logger.child({ layer: 'placement' }),
    onAdopted: (name, from) => handovers.adopted(name, from),
    isGone: (node) => cluster.members().some((m) => m.id === node && (m.state === 'dead' || m.state === 'left')),
    forget: (name) => cluster.registry.withdraw(name),
  });
  return { peerRouting, agentOperations };
}
