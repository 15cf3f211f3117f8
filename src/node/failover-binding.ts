// Wires failover into a node with a cluster and routing links: members and quorum from the cluster layer,
// module fetches over the links' module.get, agents started and stopped through the AgentService.
import type { ClusterService } from '../cluster/cluster-service.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { NodeState } from '../state/node-state.ts';
import type { AgentService } from './agent-service.ts';
import type { EventBus } from './event-bus.ts';
import { Failover } from './failover.ts';
import type { ObservedAgentDirectory, RegistryBinding } from './registry-binding.ts';
import { isDraining } from '../cluster/placement/candidates.ts';

export interface FailoverBindingParts {
  nodeId: string;
  config: Config;
  cluster: ClusterService;
  agents: AgentService;
  runsHere: (name: string) => boolean;
  localNames: () => string[];
  prepareModule: (sha256: string, bytes: Uint8Array, memoryPages: number) => Promise<void>;
  directory: ObservedAgentDirectory;
  registryBinding: RegistryBinding;
  state: NodeState;
  events: EventBus;
  logger: Logger;
}

/** Failover for this node; undefined without routing links (nothing could reach a taken-over agent). */
export function bindFailover(parts: FailoverBindingParts): Failover | undefined {
  const { cluster, config } = parts;
  const links = cluster.routing;
  if (!links) return undefined;
  // A failover.ping answered is a round trip both ways over the routing link: what confirms a side.
  links.onRequest('failover.ping', () => ({ ok: true }));
  // What a peer wrote while this node was gone to it, merged and relayed as if gossiped (Failover #catchUp).
  links.onRequest('failover.entries', (_from, body) => ({ ok: mergeEntries(cluster, body) }));
  // The write this node's registry holds for a name: how a node asked to delete its agent for a tombstone
  // naming this node as its writer checks that this node made it (Failover confirmDeletion).
  links.onRequest('registry.write', (_from, body) => ({ ok: registryWrite(cluster, body) }));
  return new Failover({
    nodeId: parts.nodeId,
    registry: cluster.registry,
    members: () =>
      cluster.members().map((m) => ({ id: m.id, state: m.state, placeable: m.tags.caxton !== undefined && (m.isSelf || m.tags.route !== undefined) && !isDraining(m) })),
    quorum: () => cluster.status(),
    agents: parts.agents,
    runsHere: parts.runsHere,
    localNames: parts.localNames,
    directory: parts.directory,
    modules: parts.state.modules,
    fetchModule: async (node, sha256, timeoutMs) => {
      const answer = (await links.request(node, 'module.get', { sha256 }, timeoutMs)) as { ok?: unknown; error?: { message?: string } } | undefined;
      if (answer && answer.ok instanceof Uint8Array) return answer.ok;
      throw new Error(answer?.error?.message ?? `node "${node}" answered module.get with something unreadable`);
    },
    prepareModule: parts.prepareModule,
    ping: async (node, timeoutMs) => {
      const answer = (await links.request(node, 'failover.ping', {}, timeoutMs)) as { ok?: unknown } | undefined;
      return answer?.ok === true;
    },
    republish: (name) => parts.registryBinding.republish(name),
    confirmDeletion: async (writer, name, lamport, timeoutMs) => {
      let answer: { ok?: { lamport?: unknown; writer?: unknown; deleted?: unknown } | null } | undefined;
      try {
        answer = (await links.request(writer, 'registry.write', { name }, timeoutMs)) as typeof answer;
      } catch (error) {
        // A writer of a version without the method: its word is the tombstone, as before.
        if (/unknown method/.test((error as Error).message)) return 'confirmed';
        return 'unknown';
      }
      const held = answer?.ok;
      // Its own deletion at that time, or a later one of its own (which will reach this node too).
      const made = held?.deleted === true && held.writer === writer && typeof held.lamport === 'number' && held.lamport >= lamport;
      return made ? 'confirmed' : 'refuted';
    },
    keeperRuns: async (node, name, timeoutMs) => {
      const answer = (await links.request(node, 'agent.get', { name }, timeoutMs)) as { ok?: { name?: unknown; node?: unknown } } | undefined;
      return answer?.ok?.name === name && answer.ok.node === node;
    },
    // What a deploy here would accept: a record does not take this node past its own ceilings.
    checkSpec: (spec) => parts.agents.checkSpec(spec),
    pushEntries: async (node, entries, timeoutMs) => {
      const answer = (await links.request(node, 'failover.entries', { entries }, timeoutMs)) as { ok?: unknown; error?: { message?: string } } | undefined;
      if (typeof answer?.ok !== 'number') throw new Error(answer?.error?.message ?? `node "${node}" answered failover.entries with something unreadable`);
    },
    events: parts.events,
    settings: {
      checkIntervalMs: config.failover.check_interval_ms,
      standbyModuleBytes: config.failover.standby_module_bytes,
      takeOverConcurrency: config.failover.take_over_concurrency,
      moduleFetchTimeoutMs: config.failover.module_fetch_timeout_ms,
    },
    logger: parts.logger.child({ layer: 'failover' }),
  });
}

/** The write `body.name`'s registry slot holds here, or null (never throws). */
export function registryWrite(cluster: Pick<ClusterService, 'registry'>, body: unknown): { lamport: number; writer: string; deleted: boolean } | null {
  const name = (body as { name?: unknown } | null | undefined)?.name;
  if (typeof name !== 'string') return null;
  const write = cluster.registry.writeOf(name);
  return write === undefined ? null : { lamport: write.lamport, writer: write.writer, deleted: cluster.registry.deleted(name) };
}

/** Entries a peer may hand over in one failover.entries request (the sender sends at most 1,000). */
const MAX_ENTRIES_PER_REQUEST = 1000;

/** Merges a peer's failover.entries body; how many were update payloads (anything else is ignored, never thrown). */
export function mergeEntries(cluster: Pick<ClusterService, 'registryGossip'>, body: unknown): number {
  const entries = (body as { entries?: unknown } | null | undefined)?.entries;
  if (!Array.isArray(entries)) return 0;
  let taken = 0;
  for (const payload of entries.slice(0, MAX_ENTRIES_PER_REQUEST)) {
    if (payload instanceof Uint8Array && cluster.registryGossip.notifyMessage(payload)) taken += 1;
  }
  return taken;
}
