// The cluster layer of a node: builds the gossip transport and the SWIM membership from the node's Config,
// announces the node's tags, joins in the background, keeps the member view the API and CLI show, the
// quorum, the membership events, the keyring and its rotation, and leaves gracefully on stop.
import { CaxtonError } from '../errors.ts';
import type { Config } from '../config/config.ts';
import { DEFAULT_GOSSIP_PORT } from '../config/defaults.ts';
import { formatHostPort, parseHostPort } from '../config/host-port.ts';
import { CAXTON_MAGIC } from './caxton-payload.ts';
import { CountingTransport, type GossipTraffic } from './gossip-traffic.ts';
import { membershipConfigFrom } from './gossip-config.ts';
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
  /** Members declared dead or left stay listed this long after the core forgets them (Serf: 24 h). */
  forgetAfterMs: 24 * 3600_000,
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
  private readonly counting: CountingTransport;
  private readonly quorum: QuorumTracker;
  private readonly keys: KeyRotation | undefined;
  private readonly joinRetry: JoinRetry | undefined;
  /** The last state of every member ever seen, so dead and left members stay listed after the core reaps them. */
  private readonly lastSeen = new Map<string, { member: Member; at: number }>();
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: ClusterServiceOptions,
    transport: NetTransport,
    keyring: Keyring | undefined,
    store: KeyringStore,
  ) {
    const { config, nodeId, logger } = options;
    this.transport = transport;
    this.keyring = keyring;
    this.counting = new CountingTransport(transport, keyring ? encryptOverhead(1) : 0);
    this.quorum = new QuorumTracker(config.cluster.bootstrap_expect);
    const membershipLogger: MembershipLogger = {
      debug: (m) => logger.debug({ layer: 'gossip' }, m),
      info: (m) => logger.info({ layer: 'gossip' }, m),
      warn: (m) => logger.warn({ layer: 'gossip' }, m),
    };
    this.membership = new Membership({
      config: membershipConfigFrom(config.gossip),
      name: nodeId,
      meta: encodeTags(tagsOf(config, options.version)),
      transport: this.counting,
      clock: systemClock,
      random: Math.random,
      logger: membershipLogger,
      events: { onStateChange: (member, previous) => this.memberChanged(member, previous) },
      delegate: {
        notifyMessage: (payload) => {
          if (payload[0] === CAXTON_MAGIC) this.keys?.handle(payload);
        },
        // Serf sends its own state (first byte 2) on join; we send an empty one, which Serf accepts.
        localState: () => new Uint8Array(0),
        mergeRemoteState: () => {},
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
    const joinAddresses = config.cluster.join.map((a) => {
      const parsed = parseHostPort(a, DEFAULT_GOSSIP_PORT);
      if (!parsed) throw new CaxtonError('INVALID_ARGUMENT', `cluster.join: expected HOST:PORT, got '${a}'`);
      return parsed;
    });
    if (joinAddresses.length > 0) {
      this.joinRetry = new JoinRetry({
        addresses: joinAddresses,
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
    const advertise = config.cluster.advertise_addr ? parseHostPort(config.cluster.advertise_addr) ?? undefined : undefined;
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
      onError: (error) => logger.debug({ layer: 'gossip', err: error.message }, 'gossip transport error'),
      onRefused: ({ source, transport: via, cause, detail, suppressed }) =>
        logger.warn({ layer: 'gossip', source, transport: via, cause, detail, suppressed }, 'gossip input refused'),
    });
    let service: ClusterService;
    try {
      service = new ClusterService(options, transport, keyring, store);
    } catch (error) {
      await transport.close();
      throw error;
    }
    service.membership.start();
    service.joinRetry?.start();
    logger.info(
      { gossip: formatHostPort(transport.localAddress), encrypted: keyring !== undefined, join: config.cluster.join, bootstrap: config.cluster.bootstrap },
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
    const now = Date.now();
    const current = new Map(this.membership.members().map((m) => [m.name, m]));
    for (const [name, seen] of this.lastSeen) {
      if (current.has(name)) continue;
      if (now - seen.at > CLUSTER_SERVICE_DEFAULTS.forgetAfterMs) this.lastSeen.delete(name);
      else current.set(name, seen.member);
    }
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

  /** Graceful leave (others see us `left`), then the gossip port closes. Idempotent. */
  stop(leave = true): Promise<void> {
    this.stopping ??= (async () => {
      this.joinRetry?.stop();
      if (leave) {
        // Serf agents in the pool need their leave intent first, or they list us as failed.
        this.membership.sendUser(serfLeaveIntent(this.membership.name));
        try {
          await this.membership.leave(CLUSTER_SERVICE_DEFAULTS.leaveTimeoutMs);
        } catch (error) {
          this.options.logger.warn({ err: (error as Error).message }, 'leave broadcast not confirmed; stopping anyway');
        }
      }
      await this.membership.shutdown();
    })();
    return this.stopping;
  }

  private memberChanged(member: Member, previous: NodeState | undefined): void {
    this.lastSeen.set(member.name, { member, at: Date.now() });
    const alive = this.membership.liveMembers().length;
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
    if (member.name !== this.membership.name || previous !== undefined) {
      const level = member.state === 'suspect' ? 'debug' : 'info';
      this.options.logger[level]({ member: event.id, address: event.address, state: event.state, previous: event.previous }, 'member changed');
    }
    this.options.onMemberEvent?.(event);
  }
}

function tagsOf(config: Config, version: string): Record<string, string> {
  // No `route` tag until node-to-node routing exists: announcing an address nobody listens on would mislead.
  return { caxton: version, api: config.api.addr };
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
