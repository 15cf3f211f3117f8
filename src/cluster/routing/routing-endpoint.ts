// What a node with routing TLS serves on its gossip port besides gossip: TLS streams (first byte 0x16) are
// node-to-node routing links; the node holding the cluster CA's key also answers enrollment (a new node's
// join token for a certificate); and the TLS material is reloaded when its files change.
import type { Config } from '../../config/config.ts';
import { parseHostPort } from '../../config/host-port.ts';
import type { Membership } from '../membership/memberlist.ts';
import { decodeTags } from '../node-tags.ts';
import { ENROLLMENT_MARKER, EnrollmentServer } from '../pki/enrollment.ts';
import { JoinTokenStore } from '../pki/join-token.ts';
import type { NodeTls } from '../pki/node-tls.ts';
import { loadCa, watchTlsMaterial } from '../pki/tls-files.ts';
import type { NetTransport } from '../transport/net-transport.ts';
import { RoutingLinks, type RoutingLogger } from './routing-links.ts';
import { routingSettingsFrom } from './routing-settings.ts';
import { isLive } from '../membership/messages.ts';

/** The TLS handshake's first byte: a stream that starts with it is a routing link. */
const TLS_RECORD_HANDSHAKE = 0x16;

export interface RoutingEndpointOptions {
  nodeId: string;
  version: string;
  config: Config;
  tls: NodeTls;
  transport: NetTransport;
  /** Who is a member, and where its routing port is (its `route` tag). */
  membership: Membership;
  logger: RoutingLogger;
}

export interface RoutingEndpoint {
  readonly links: RoutingLinks;
  /** The join tokens this node issues; only on the node holding the cluster CA's key. */
  readonly joinTokens: JoinTokenStore | undefined;
  /** Stops watching the TLS files. */
  stopWatching(): void;
}

/** The member `node` when it counts for routing: alive, or suspect (it may still answer). */
function routable(membership: Membership, node: string): ReturnType<Membership['member']> {
  const m = membership.member(node);
  return m !== undefined && isLive(m.state) ? m : undefined;
}

export function openRoutingEndpoint(options: RoutingEndpointOptions): RoutingEndpoint {
  const { config, tls, transport, membership, logger } = options;
  const links = new RoutingLinks({
    nodeId: options.nodeId,
    tls: tls.material,
    addressOf: (node) => {
      const m = routable(membership, node);
      const route = m && decodeTags(m.meta).route;
      return route ? parseHostPort(route) ?? undefined : undefined;
    },
    isMember: (node) => routable(membership, node) !== undefined,
    settings: routingSettingsFrom(config.routing),
    logger,
    softwareVersion: options.version,
  });
  transport.onForeignStream(TLS_RECORD_HANDSHAKE, (socket, head) => links.acceptSocket(socket, head));
  let joinTokens: JoinTokenStore | undefined;
  let enrollment: EnrollmentServer | undefined;
  if (tls.holdsCa) {
    joinTokens = new JoinTokenStore(tls.dir);
    const server = new EnrollmentServer({
      ca: () => loadCa(tls.dir),
      tls: () => tls.material,
      tokens: joinTokens,
      timeoutMs: config.routing.connect_timeout_ms,
      logger,
      isLiveMember: (node) => routable(membership, node) !== undefined,
    });
    enrollment = server;
    transport.onForeignStream(ENROLLMENT_MARKER, (socket, head) => server.acceptSocket(socket, head));
  }
  const stopWatching = watchTlsMaterial(
    tls.dir,
    config.routing.tls_reload_interval_ms,
    (material) => {
      links.updateTls(material); // throws on a key that does not match: the current material stays
      enrollment?.updateTls(material);
      tls.material = material;
    },
    (error) => logger.warn({ dir: tls.dir, err: error.message }, 'routing: TLS material changed but cannot be loaded; keeping the current one'),
  );
  return { links, joinTokens, stopWatching };
}
