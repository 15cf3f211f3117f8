// The cluster layer of a node: builds the gossip transport and the SWIM membership from the node's Config,
// announces the node's tags, joins in the background, keeps the member view the API and CLI show, the
// quorum, the membership events, the keyring and its rotation, and leaves gracefully on stop.
import { CaxtonError } from '../errors.ts';
import type { Config } from '../config/config.ts';
import { DEFAULT_GOSSIP_PORT } from '../config/defaults.ts';
import { formatHostPort, parseHostPort } from '../config/host-port.ts';
import { advertiseAddressOf } from './advertise-address.ts';
import { CAXTON_MAGIC } from './caxton-payload.ts';
import { MdnsDiscovery, multicastInterfaceFor } from './discovery/mdns-discovery.ts';
import { AgentRegistry } from './registry/agent-registry.ts';
import { RegistryGossip } from './registry/registry-gossip.ts';
import { CountingTransport, type GossipTraffic } from './gossip-traffic.ts';
import { membershipConfigFrom } from './gossip-config.ts';
import { addressesToJoin, systemLookupAll } from './join-addresses.ts';
import { JoinRetry } from './join-retry.ts';
import { KeyRotation, type KeyOp, type KeyOpReport } from './key-rotation.ts';
import { KeyringStore } from './keyring-store.ts';
import { systemClock, type MembershipLogger } from './membership/clock.ts';
import type { Member } from './membership/member.ts';
import { Membership } from './membership/memberlist.ts';
import type { NodeState } from './membership/messages.ts';
import { decodeTags, encodeTags } from './node-tags.ts';
import { QuorumTracker, type QuorumView } from './quorum.ts';
import { serfLeaveIntent } from './serf-leave-intent.ts';
import { NetTransport } from './transport/net-transport.ts';
import { Keyring } from './wire/keyring.ts';
import { decodeGossipKey } from '../config/schema.ts';
import { encryptOverhead } from './wire/security.ts';
import { certificateFingerprint } from './pki/certificates.ts';
import { formatJoinToken, type JoinTokenStore } from './pki/join-token.ts';
import { ensureNodeTls, type NodeTls } from './pki/node-tls.ts';
import type { RoutingLinks } from './routing/routing-links.ts';
import { openRoutingEndpoint } from './routing/routing-endpoint.ts';
import { ROUTING_PROTOCOL_VERSION } from './routing/frames.ts';
import { protocolCompatible, protocolRefusal } from './routing/protocol-compat.ts';
import { LastSeen } from './last-seen.ts';
import { LogBudget } from './log-budget.ts';
import { isDraining, memberProtocol, PLACEMENT_TAGS } from './placement/candidates.ts';

/** Defaults of the cluster layer that are not operator settings, each with its reason. */
export const CLUSTER_SERVICE_DEFAULTS = {
  /**
   * A --join target that is not up yet is retried every 400 ms for the first minute, so a cluster whose nodes
   * start in any order is complete within ~1 s of the last start (issue 9, finding a); one TCP connect per
   * 400 ms costs nothing. Then 1 s doubling to 30 s (Serf's retry_interval).
   */
  joinRetryFastMs: 400,
  joinRetryFastPhaseMs: 60_000,
  joinRetryInitialMs: 1000,
  joinRetryMaxMs: 30_000,
  /** A graceful leave waits this long for its broadcast to go out before stopping anyway. */
  leaveTimeoutMs: 3000,
  /** Members answer a key operation within this (one TCP round trip each, normally milliseconds). */
  keyAnswerTimeoutMs: 5000,
  /**
   * Members declared dead or left stay listed this long after the core forgets them (Serf: 24 h); at most
   * gossip.max_members of them, the longest unchanged forgotten first.
   */
  forgetAfterMs: 24 * 3600_000,
  /**
   * Member change lines (`member changed`, `member tags changed`, an incompatible member): a peer without the
   * gossip key can cause one per message. A burst of 500 logs every member of a cluster of hundreds going at
   * once; then 10 a second, the lines held back counted (`suppressed`) in the next one. Events are not limited.
   */
  memberLogBurst: 500,
  memberLogPerSecond: 10,
  /** Expired registry tombstones are swept this often: a tombstone lives 24 h by default, a minute late is nothing. */
  registryGcIntervalMs: 60_000,
};

export interface ClusterLogger {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
  debug(data: Record<string, unknown>, message: string): void;
}

/** A member as the API and CLI show it. */
export interface ClusterMember {
  id: string;
  /** Gossip address HOST:PORT. */
  address: string;
  state: NodeState;
  /** The node's tags: caxton (version), api, route for a Caxton node; whatever a Serf agent set. */
  tags: Record<string, string>;
  isSelf: boolean;
}

export interface MemberEvent {
  id: string;
  address: string;
  state: NodeState;
  previous: NodeState | null;
  version: string | null;
}

export interface ClusterServiceOptions {
  config: Config;
  nodeId: string;
  version: string;
  logger: ClusterLogger;
  /** Told of every membership change (the node publishes it on its event stream). */
  onMemberEvent?: (event: MemberEvent) => void;
}

export class ClusterService {
  readonly membership: Membership;
  readonly transport: NetTransport;
  readonly keyring: Keyring | undefined;
  /** Every agent of the cluster (cluster.md "Agent registry"), spread through this membership's gossip. */
  readonly registry: AgentRegistry;
  readonly registryGossip: RegistryGossip;
  private readonly registryGc: NodeJS.Timeout;
  /**
   * Node-to-node links (TLS 1.3 mTLS on the gossip port); undefined when this node has no routing TLS
   * material (a --join without --token or --tls-dir: logged at start with how to fix it).
   */
  readonly routing: RoutingLinks | undefined;
  /** Where the routing TLS material came from; undefined as routing is. */
  readonly tls: NodeTls | undefined;
  private readonly joinTokens: JoinTokenStore | undefined;
  private readonly stopTlsWatch: (() => void) | undefined;
  private readonly counting: CountingTransport;
  private readonly quorum: QuorumTracker;
  private readonly keys: KeyRotation | undefined;
  private readonly joinRetry: JoinRetry | undefined;
  /** `--cluster NAME`: mDNS discovery, started once the gossip port is up. */
  private discovery: MdnsDiscovery | undefined;
  /** The last state of every member seen, so dead and left members stay listed after the core reaps them. */
  private readonly lastSeen: LastSeen;
  private readonly memberLog = new LogBudget(CLUSTER_SERVICE_DEFAULTS.memberLogBurst, CLUSTER_SERVICE_DEFAULTS.memberLogPerSecond, () => Date.now());
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  /** This node's tags as last announced (draining changes them). */
  private tags: Record<string, string>;

  private constructor(
    private readonly options: ClusterServiceOptions,
    transport: NetTransport,
    keyring: Keyring | undefined,
    store: KeyringStore,
    tls: NodeTls | undefined,
  ) {
    const { config, nodeId, logger } = options;
    this.transport = transport;
    this.keyring = keyring;
    this.tls = tls;
    this.counting = new CountingTransport(transport, keyring ? encryptOverhead(1) : 0);
    this.lastSeen = new LastSeen(config.gossip.max_members, CLUSTER_SERVICE_DEFAULTS.forgetAfterMs);
    this.quorum = new QuorumTracker(config.cluster.bootstrap_expect);
    this.registry = new AgentRegistry({
      nodeId,
      now: () => Date.now(),
      maxRecords: config.registry.max_records,
      tombstoneTtlMs: config.registry.tombstone_ttl_ms,
    });
    this.registryGossip = new RegistryGossip(this.registry, () => this.membership);
    this.registryGc = setInterval(() => this.registry.collectGarbage(), CLUSTER_SERVICE_DEFAULTS.registryGcIntervalMs);
    this.registryGc.unref();
    const membershipLogger: MembershipLogger = {
      debug: (m) => logger.debug({ layer: 'gossip' }, m),
      info: (m) => logger.info({ layer: 'gossip' }, m),
      warn: (m) => logger.warn({ layer: 'gossip' }, m),
    };
    this.tags = tagsOf(config, options.version, tls ? formatHostPort(transport.localAddress) : undefined, this.startedAt);
    this.membership = new Membership({
      config: membershipConfigFrom(config.gossip),
      name: nodeId,
      meta: encodeTags(this.tags),
      transport: this.counting,
      clock: systemClock,
      random: Math.random,
      logger: membershipLogger,
      events: {
        onStateChange: (member, previous) => this.memberChanged(member, previous),
        onUpdate: (member) => this.memberUpdated(member),
      },
      delegate: {
        notifyMessage: (payload) => {
          if (payload[0] !== CAXTON_MAGIC) return;
          if (!this.registryGossip.notifyMessage(payload)) this.keys?.handle(payload);
        },
        // Serf sends its own state (first byte 2), which the registry ignores; Serf logs ours as a bad
        // type prefix and carries on (test/cluster/serf).
        localState: () => this.registryGossip.localState(),
        mergeRemoteState: (state) => this.registryGossip.mergeRemoteState(state),
      },
    });
    if (keyring) {
      this.keys = new KeyRotation({
        nodeName: nodeId,
        keyring,
        store,
        liveMembers: () => this.membership.liveMembers().map((member) => ({ member, caxton: decodeTags(member.meta).caxton !== undefined })),
        addressOf: (node) => {
          const m = this.membership.member(node);
          return m && { host: m.address, port: m.port };
        },
        sendStream: (to, payload) => transport.sendUserStream(to, payload, CLUSTER_SERVICE_DEFAULTS.keyAnswerTimeoutMs),
        answerTimeoutMs: CLUSTER_SERVICE_DEFAULTS.keyAnswerTimeoutMs,
        log: (m) => logger.info({ layer: 'gossip' }, m),
      });
    }
    if (tls) {
      const endpoint = openRoutingEndpoint({ nodeId, version: options.version, config, tls, transport, membership: this.membership, logger });
      this.routing = endpoint.links;
      this.joinTokens = endpoint.joinTokens;
      this.stopTlsWatch = endpoint.stopWatching;
    }
    const joinAddresses = config.cluster.join.map((a) => {
      const parsed = parseHostPort(a, DEFAULT_GOSSIP_PORT);
      if (!parsed) throw new CaxtonError('INVALID_ARGUMENT', `cluster.join: expected HOST:PORT, got '${a}'`);
      return parsed;
    });
    if (joinAddresses.length > 0) {
      this.joinRetry = new JoinRetry({
        addresses: () => addressesToJoin(joinAddresses, systemLookupAll, transport.localAddress),
        join: (addresses) => this.membership.join(addresses),
        fastDelayMs: CLUSTER_SERVICE_DEFAULTS.joinRetryFastMs,
        fastPhaseMs: CLUSTER_SERVICE_DEFAULTS.joinRetryFastPhaseMs,
        initialDelayMs: CLUSTER_SERVICE_DEFAULTS.joinRetryInitialMs,
        maxDelayMs: CLUSTER_SERVICE_DEFAULTS.joinRetryMaxMs,
        random: Math.random,
        onJoined: (contacted, attempts) => logger.info({ contacted, attempts, members: this.membership.liveMembers().length }, 'joined the cluster'),
        onRetry: (error, attempt, delay) => logger.warn({ attempt, retry_in_ms: delay, err: error.message }, 'join failed; retrying'),
      });
    }
  }

  /** Opens the gossip port (UDP + TCP), starts the membership and, with cluster.join, joins in the background. */
  static async start(options: ClusterServiceOptions): Promise<ClusterService> {
    const { config, logger } = options;
    const store = new KeyringStore(config.node.data_dir);
    const keyring = loadKeyring(store, config.cluster.encrypt, logger);
    const bind = parseHostPort(config.cluster.bind_addr);
    if (!bind) throw new CaxtonError('INVALID_ARGUMENT', `cluster.bind_addr: expected HOST:PORT, got '${config.cluster.bind_addr}'`);
    const advertise = config.cluster.advertise_addr ? await advertiseAddressOf(config.cluster.advertise_addr) : undefined;
    let tls: NodeTls | undefined;
    try {
      tls = await ensureNodeTls(config, options.nodeId, logger);
    } catch (error) {
      // Material the operator named must work; otherwise gossip alone still runs (joining a Serf pool, say)
      // and routing between nodes waits until this line is acted on.
      if (config.cluster.token !== undefined || config.routing.tls_dir !== undefined) throw error;
      logger.warn({}, `routing disabled: ${(error as Error).message}`);
    }
    const transport = await NetTransport.listen({
      bindHost: bind.host,
      bindPort: bind.port,
      advertise,
      keyring,
      tcpTimeoutMs: config.gossip.tcp_timeout_ms,
      udpBufferBytes: config.gossip.udp_buffer_size,
      maxIncomingStreams: config.gossip.tcp_max_connections,
      maxStreamBytes: config.gossip.tcp_max_stream_bytes,
      streamBudgetBytes: config.gossip.tcp_stream_budget_bytes,
      streamHeaderTimeoutMs: config.gossip.tcp_header_timeout_ms,
      // A peer lists the members it holds; one holding no more than we may never lists more.
      maxPushPullNodes: config.gossip.max_members,
      onError: (error) => logger.debug({ layer: 'gossip', err: error.message }, 'gossip transport error'),
      onRefused: ({ source, transport: via, cause, detail, suppressed }) =>
        logger.warn({ layer: 'gossip', source, transport: via, cause, detail, suppressed }, 'gossip input refused'),
    });
    let service: ClusterService;
    try {
      service = new ClusterService(options, transport, keyring, store, tls);
    } catch (error) {
      await transport.close();
      throw error;
    }
    service.membership.start();
    service.joinRetry?.start();
    if (config.cluster.discover !== undefined) {
      try {
        service.discovery = await MdnsDiscovery.start({
          cluster: config.cluster.discover,
          node: options.nodeId,
          version: options.version,
          gossip: transport.localAddress,
          multicastInterface: multicastInterfaceFor(bind.host),
          intervalMs: config.cluster.discover_interval_ms,
          join: (addresses) => service.membership.join(addresses),
          isMember: (a) => service.membership.liveMembers().some((m) => m.address === a.host && m.port === a.port),
          logger,
        });
      } catch (error) {
        await service.stop(false);
        throw error;
      }
    }
    logger.info(
      { gossip: formatHostPort(transport.localAddress), encrypted: keyring !== undefined, join: config.cluster.join, discover: config.cluster.discover, bootstrap: config.cluster.bootstrap },
      'gossip started',
    );
    return service;
  }

  /** Resolves once a --join succeeded (immediately when there was nothing to join). */
  joined(): Promise<void> {
    return this.joinRetry?.joined ?? Promise.resolve();
  }

  get gossipAddress(): string {
    return formatHostPort(this.transport.localAddress);
  }

  /** Every member known, this node included; dead and left ones until forgotten. */
  members(): ClusterMember[] {
    const current = new Map(this.membership.members().map((m) => [m.name, m]));
    for (const member of this.lastSeen.list(Date.now())) if (!current.has(member.name)) current.set(member.name, member);
    return [...current.values()]
      .map((m) => ({
        id: m.name,
        address: formatHostPort({ host: m.address, port: m.port }),
        state: m.state,
        tags: decodeTags(m.meta),
        isSelf: m.name === this.membership.name,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  status(): QuorumView & { health: 'healthy' | 'degraded' } {
    const live = this.membership.liveMembers();
    const view = this.quorum.view(live.length);
    const suspect = live.some((m) => m.state === 'suspect');
    const health = view.mode === 'read-write' && !suspect && view.alive >= view.expected ? 'healthy' : 'degraded';
    return { ...view, health };
  }

  /** Bytes and packets through the gossip transport since start, and the rate since start. */
  traffic(): GossipTraffic & { seconds: number } {
    return { ...this.counting.traffic, seconds: (Date.now() - this.startedAt) / 1000 };
  }

  /** A gossip-key operation here and on every live Caxton member (`caxton security keys ...`). */
  async keyOperation(op: KeyOp, key?: string): Promise<KeyOpReport> {
    if (!this.keys) {
      throw new CaxtonError('CONFLICT', 'gossip encryption is not enabled on this node (start it with --encrypt KEY)');
    }
    return this.keys.run(op, key);
  }

  /**
   * A one-line join token (`caxton cluster token`): another node started with `--join <this node> --token T`
   * gets its routing certificate from this node. Only a node holding the cluster CA's key can make one.
   */
  createJoinToken(): string {
    if (!this.tls || !this.joinTokens) {
      throw new CaxtonError('CONFLICT', 'this node does not hold the cluster CA: run `caxton cluster token` against the node that created it (the --bootstrap node)');
    }
    const secret = this.joinTokens.create(this.options.config.routing.join_token_ttl_ms);
    return formatJoinToken({ caFingerprint: certificateFingerprint(this.tls.material.caPem), secret });
  }

  get draining(): boolean {
    return this.tags[PLACEMENT_TAGS.draining] === '1';
  }

  /**
   * Announces (or clears) `draining` in this node's gossip meta: every node's placement then skips it
   * (placement/candidates.ts). Spreads like any meta change, with a higher incarnation.
   */
  setDraining(on: boolean): void {
    if (on === this.draining) return;
    const next = { ...this.tags };
    if (on) next[PLACEMENT_TAGS.draining] = '1';
    else delete next[PLACEMENT_TAGS.draining];
    this.membership.updateMeta(encodeTags(next));
    this.tags = next;
    this.options.logger.info({ draining: on }, on ? 'draining: placement skips this node' : 'draining cleared: placement may choose this node again');
  }

  /** Graceful leave (others see us `left`), then the gossip port closes. Idempotent. */
  stop(leave = true): Promise<void> {
    this.stopping ??= (async () => {
      this.joinRetry?.stop();
      await this.discovery?.stop();
      clearInterval(this.registryGc);
      if (leave) {
        // Serf agents in the pool need their leave intent first, or they list us as failed.
        this.membership.sendUser(serfLeaveIntent(this.membership.name));
        try {
          await this.membership.leave(CLUSTER_SERVICE_DEFAULTS.leaveTimeoutMs);
        } catch (error) {
          this.options.logger.warn({ err: (error as Error).message }, 'leave broadcast not confirmed; stopping anyway');
        }
      }
      this.stopTlsWatch?.();
      this.routing?.close();
      await this.membership.shutdown();
    })();
    return this.stopping;
  }

  /** A member's meta changed (a drain starts or ends there): logged, and published like a state change. */
  private memberUpdated(member: Member): void {
    this.lastSeen.note(member, Date.now());
    if (member.name === this.membership.name) return;
    const tags = decodeTags(member.meta);
    const suppressed = this.memberLog.take();
    if (suppressed !== undefined) {
      this.options.logger.info({ member: member.name, draining: isDraining({ tags }), version: tags.caxton ?? null, ...(suppressed > 0 ? { suppressed } : {}) }, 'member tags changed');
    }
    this.options.onMemberEvent?.({
      id: member.name,
      address: formatHostPort({ host: member.address, port: member.port }),
      state: member.state,
      previous: member.state,
      version: tags.caxton ?? null,
    });
  }

  private memberChanged(member: Member, previous: NodeState | undefined): void {
    this.lastSeen.note(member, Date.now());
    // A count kept by the core: listing the members here made every change cost O(members).
    const alive = this.membership.liveCount;
    if ((member.state === 'dead' || member.state === 'left') && member.name !== this.membership.name) this.routing?.forget(member.name);
    if (member.state === 'left' && member.name !== this.membership.name) this.quorum.gracefulLeave(alive);
    else this.quorum.observe(alive);
    const tags = decodeTags(member.meta);
    const event: MemberEvent = {
      id: member.name,
      address: formatHostPort({ host: member.address, port: member.port }),
      state: member.state,
      previous: previous ?? null,
      version: tags.caxton ?? null,
    };
    // A node came to us while our own --join targets do not answer yet: the cluster is forming, keep trying fast.
    if (member.name !== this.membership.name && member.state === 'alive' && previous === undefined) this.joinRetry?.quicken();
    // The lines of one change share one allowance of the budget (memberLogBurst).
    const suppressed = member.name === this.membership.name && previous === undefined ? undefined : this.memberLog.take();
    if (suppressed !== undefined) {
      const held = suppressed > 0 ? { suppressed } : {};
      if (member.name !== this.membership.name && member.state === 'alive' && previous !== 'alive' && tags.caxton !== undefined) {
        const protocol = memberProtocol({ tags });
        if (!protocolCompatible(protocol, ROUTING_PROTOCOL_VERSION)) {
          this.options.logger.warn(
            { member: member.name, member_version: tags.caxton, member_protocol: protocol, protocol: ROUTING_PROTOCOL_VERSION, version: this.options.version, ...held },
            `member '${member.name}' (Caxton ${tags.caxton}) is incompatible: ${protocolRefusal(protocol, ROUTING_PROTOCOL_VERSION)}; it gets no agents and its routing links are refused`,
          );
        }
      }
      const level = member.state === 'suspect' ? 'debug' : 'info';
      this.options.logger[level]({ member: event.id, address: event.address, state: event.state, previous: event.previous, ...held }, 'member changed');
    }
    this.options.onMemberEvent?.(event);
  }
}

function tagsOf(config: Config, version: string, route: string | undefined, startedAt: number): Record<string, string> {
  // `route`: routing links are accepted on the gossip port; announced only when this node can accept them.
  // `proto`: the routing protocol version (rolling upgrades check it); `started`: this process's start (ms
  // since the epoch), so `cluster upgrade` tells a restarted node from the one it drained.
  return {
    caxton: version,
    api: config.api.addr,
    ...(route ? { route } : {}),
    [PLACEMENT_TAGS.protocol]: String(ROUTING_PROTOCOL_VERSION),
    started: String(startedAt),
  };
}

/**
 * The keyring file in the data dir wins over --encrypt once it exists (as Consul does), because a
 * rotation may have replaced the key the node was first started with; --encrypt then seeds a new file.
 */
function loadKeyring(store: KeyringStore, encrypt: string | undefined, logger: ClusterLogger): Keyring | undefined {
  const stored = store.load();
  if (stored) {
    if (encrypt !== undefined) {
      const key = decodeGossipKey(encrypt);
      const known = key !== null && stored.getKeys().some((k) => Buffer.from(k).equals(key));
      if (!known) logger.warn({ keyring: store.path }, '--encrypt ignored: the keyring file in the data dir does not hold that key and takes precedence');
    }
    return stored;
  }
  if (encrypt === undefined) return undefined;
  const keyring = Keyring.fromBase64(encrypt);
  store.save(keyring);
  return keyring;
}
