// `--cluster NAME`: finds the members of cluster NAME on the local network by mDNS/DNS-SD and joins them,
// as `serf agent -discover NAME` does (Serf's command/agent/mdns.go), under the same service name. The node
// advertises its gossip address, announces itself at start, queries at start and then ever less often,
// and joins what it finds through the same join path as --join. The socket part: what to advertise, how to
// read answers and which addresses to join are the pure modules beside it.
import createMdns from 'multicast-dns';
import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { CaxtonError } from '../../errors.ts';
import type { PeerAddress } from '../membership/transport.ts';
import { DiscoveredPeers } from './discovered-peers.ts';
import { isOnLink, type Interfaces } from './on-link.ts';
import {
  advertisedRecords,
  asksForUs,
  LEGACY_UNICAST_TTL_SECONDS,
  peersInAnswer,
  serviceName,
  type Advertisement,
} from './service-records.ts';

/** Settings of discovery that are not operator settings, each with its reason. */
export const MDNS_DISCOVERY_DEFAULTS = {
  /** mDNS's port and IPv4 group (RFC 6762). */
  port: 5353,
  /** The first query again after 1 s, doubling up to cluster.discover_interval_ms (RFC 6762 §5.2). */
  firstRequeryMs: 1000,
  /** Serf waits 100 ms after an answer for more before joining them together: one join for a burst. */
  joinQuietMs: 100,
  /** Addresses remembered (see DiscoveredPeers): 4× a large LAN cluster, a few KiB. */
  rememberedAddresses: 256,
  /** Addresses read from one answer: a node advertises one; more is someone else's list. */
  addressesPerAnswer: 8,
  /** Addresses waiting for the next join: one join batch, as MAX_JOIN_ADDRESSES for --join. */
  pendingMax: 64,
  /** RFC 6762 §6: a record is multicast at most once per second, however many ask. */
  multicastAnswerIntervalMs: 1000,
  /** Unicast answers (to legacy queries from a port other than 5353, as hashicorp/mdns sends) per second. */
  unicastAnswersPerSecond: 10,
  /** RFC 6762 §8.3: a new record is announced at least twice, one second apart. */
  announceIntervalMs: 1000,
  /** A goodbye (TTL 0) on stop is best effort: the node does not wait longer than this to send it. */
  goodbyeTimeoutMs: 500,
  /** The host's interfaces (for the on-link check) are read again at most this often, not per packet. */
  interfacesRefreshMs: 1000,
  /** Malformed packets are counted and reported at debug level at most this often. */
  malformedReportMs: 10_000,
};

export interface DiscoveryLogger {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
  debug(data: Record<string, unknown>, message: string): void;
}

export interface MdnsDiscoveryOptions {
  cluster: string;
  /** This node's id (the DNS-SD instance name). */
  node: string;
  version: string;
  /** The gossip address to advertise (transport.localAddress). */
  gossip: PeerAddress;
  /** IPv4 address of the interface to speak mDNS on; unset = every interface, the system's default route. */
  multicastInterface?: string;
  /** cluster.discover_interval_ms: the steady-state query interval, also how soon an address is tried again. */
  intervalMs: number;
  /** The node's join (Membership.join): resolves with the number contacted, rejects when none answered. */
  join: (addresses: PeerAddress[]) => Promise<number>;
  /** An address of a member already alive: not joined again. */
  isMember: (address: PeerAddress) => boolean;
  logger: DiscoveryLogger;
  /** Tests only: another port than 5353. */
  port?: number;
  interfaces?: () => Interfaces;
  now?: () => number;
}

type Mdns = ReturnType<typeof createMdns>;

export class MdnsDiscovery {
  private readonly ad: Advertisement;
  private readonly peers: DiscoveredPeers;
  private readonly port: number;
  private readonly now: () => number;
  private readonly interfaces: () => Interfaces;
  private readonly timers = new Set<NodeJS.Timeout>();
  private requeryMs = MDNS_DISCOVERY_DEFAULTS.firstRequeryMs;
  private pending: PeerAddress[] = [];
  private flushScheduled = false;
  private joining = false;
  private lastMulticastAnswer = -Infinity;
  private unicastWindow = { start: -Infinity, count: 0 };
  private malformed = { count: 0, reportedAt: -Infinity };
  private readonly reported = new Set<string>();
  private link: { readAt: number; interfaces: Interfaces } = { readAt: -Infinity, interfaces: {} };
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly options: MdnsDiscoveryOptions,
    private readonly mdns: Mdns,
  ) {
    this.ad = { cluster: options.cluster, node: options.node, gossip: options.gossip, info: `Caxton ${options.version} '${options.cluster}' cluster` };
    this.peers = new DiscoveredPeers({ capacity: MDNS_DISCOVERY_DEFAULTS.rememberedAddresses, retryAfterMs: options.intervalMs });
    this.port = options.port ?? MDNS_DISCOVERY_DEFAULTS.port;
    this.now = options.now ?? Date.now;
    this.interfaces = options.interfaces ?? networkInterfaces;
  }

  /** Binds the mDNS port (shared with other responders: SO_REUSEADDR), announces, queries. Rejects if it cannot bind. */
  static async start(options: MdnsDiscoveryOptions): Promise<MdnsDiscovery> {
    const port = options.port ?? MDNS_DISCOVERY_DEFAULTS.port;
    // Bound to the wildcard address whatever the interface: a socket bound to a unicast address receives no multicast.
    const mdns = createMdns({ port, interface: options.multicastInterface, bind: '0.0.0.0', reuseAddr: true, loopback: true });
    await new Promise<void>((resolve, reject) => {
      let bound = false;
      // Stays attached for the socket's life: multicast-dns may emit one bind failure twice, and an
      // 'error' without a listener would throw out of the process.
      mdns.on('error', (error: Error) => {
        if (bound) return options.logger.warn({ err: error.message }, 'mDNS socket error');
        mdns.destroy();
        reject(new CaxtonError('UNAVAILABLE', `mDNS discovery cannot use UDP port ${port}: ${error.message}`));
      });
      mdns.once('ready', () => {
        bound = true;
        resolve();
      });
    });
    if (isIP(options.gossip.host) === 0) {
      options.logger.warn(
        { gossip: options.gossip.host },
        'mDNS discovery cannot advertise a gossip address that is a host name (set --advertise-addr to an IP address); it still finds and joins others',
      );
    } else if (isLoopbackAddress(options.gossip.host)) {
      options.logger.warn(
        { gossip: options.gossip.host },
        'mDNS discovery advertises a loopback gossip address: only nodes on this host can join it (set --bind-addr or --advertise-addr)',
      );
    }
    const discovery = new MdnsDiscovery(options, mdns);
    discovery.listen();
    discovery.announce(2);
    discovery.query();
    options.logger.info(
      { cluster: options.cluster, service: serviceName(options.cluster), gossip: `${options.gossip.host}:${options.gossip.port}`, interface: options.multicastInterface ?? 'default' },
      'mDNS discovery started',
    );
    return discovery;
  }

  /** Says goodbye (the records with TTL 0), then closes the socket. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, MDNS_DISCOVERY_DEFAULTS.goodbyeTimeoutMs);
        this.send(() => this.mdns.respond({ answers: advertisedRecords(this.ad, 0) }, () => (clearTimeout(timer), resolve())));
      });
      await new Promise<void>((resolve) => this.mdns.destroy(() => resolve()));
    })();
    return this.stopped;
  }

  private listen(): void {
    this.mdns.on('response', (packet, rinfo) => this.guard(() => this.onResponse(packet, rinfo)));
    this.mdns.on('query', (packet, rinfo) => this.guard(() => this.onQuery(packet, rinfo)));
    // A warning with an errno code is the socket's (a multicast group it cannot join); without one,
    // dns-packet could not decode a datagram: garbage on the link, counted and reported now and then.
    this.mdns.on('warning', (error: NodeJS.ErrnoException) => {
      if (error.code) this.problem('socket', { err: error.message }, 'mDNS socket warning (discovery may not hear this network)');
      else this.countMalformed();
    });
  }

  private onResponse(packet: unknown, rinfo: RemoteInfo): void {
    if (this.stopped || !this.onLink(rinfo.address)) return;
    const found = peersInAnswer(packet, this.options.cluster, MDNS_DISCOVERY_DEFAULTS.addressesPerAnswer);
    if (found.length === 0) return;
    const chosen = this.peers.toJoin(found, this.now(), (a) => this.isSelf(a) || this.options.isMember(a));
    for (const address of chosen) {
      if (this.pending.length >= MDNS_DISCOVERY_DEFAULTS.pendingMax) break;
      this.pending.push(address);
    }
    if (this.pending.length > 0) this.scheduleFlush();
  }

  private onQuery(packet: unknown, rinfo: RemoteInfo): void {
    if (this.stopped || !this.onLink(rinfo.address) || !asksForUs(packet, this.ad)) return;
    const now = this.now();
    if (rinfo.port !== this.port) {
      // RFC 6762 §6.7 legacy unicast (hashicorp/mdns, hence Serf, queries from an ephemeral port): answer the
      // sender directly, echoing the query id and question, with short TTLs.
      if (now - this.unicastWindow.start >= 1000) this.unicastWindow = { start: now, count: 0 };
      if (this.unicastWindow.count >= MDNS_DISCOVERY_DEFAULTS.unicastAnswersPerSecond) return;
      this.unicastWindow.count += 1;
      const id = typeof (packet as { id?: unknown }).id === 'number' ? (packet as { id: number }).id : 0;
      this.send(() =>
        this.mdns.respond(
          { id, questions: [{ name: serviceName(this.options.cluster), type: 'PTR', class: 'IN' }], answers: advertisedRecords(this.ad, LEGACY_UNICAST_TTL_SECONDS) },
          { address: rinfo.address, port: rinfo.port },
          (error) => error && this.options.logger.debug({ err: error.message }, 'mDNS answer not sent'),
        ),
      );
      return;
    }
    if (now - this.lastMulticastAnswer < MDNS_DISCOVERY_DEFAULTS.multicastAnswerIntervalMs) return;
    this.lastMulticastAnswer = now;
    this.send(() => this.mdns.respond({ answers: advertisedRecords(this.ad) }, (error) => error && this.sendFailed(error)));
  }

  /** Unsolicited answers so that nodes already running learn of this one without waiting for their next query. */
  private announce(remaining: number): void {
    if (remaining <= 0 || this.stopped) return;
    this.lastMulticastAnswer = this.now();
    this.send(() => this.mdns.respond({ answers: advertisedRecords(this.ad) }, (error) => error && this.sendFailed(error)));
    this.after(MDNS_DISCOVERY_DEFAULTS.announceIntervalMs, () => this.announce(remaining - 1));
  }

  private query(): void {
    if (this.stopped) return;
    this.send(() =>
      this.mdns.query({ questions: [{ name: serviceName(this.options.cluster), type: 'PTR' }] }, (error: Error | null) => error && this.sendFailed(error)),
    );
    const delay = this.requeryMs;
    this.requeryMs = Math.min(this.requeryMs * 2, this.options.intervalMs);
    this.after(delay, () => this.query());
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.after(MDNS_DISCOVERY_DEFAULTS.joinQuietMs, () => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.joining || this.stopped || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.joining = true;
    const addresses = batch.map((a) => (isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`));
    try {
      const contacted = await this.options.join(batch);
      this.options.logger.info({ cluster: this.options.cluster, addresses, contacted }, 'joined peers found by mDNS');
    } catch (error) {
      this.options.logger.warn({ cluster: this.options.cluster, addresses, err: (error as Error).message, retry_in_ms: this.options.intervalMs }, 'could not join peers found by mDNS');
    } finally {
      this.joining = false;
      if (this.pending.length > 0) this.scheduleFlush();
    }
  }

  private onLink(source: string): boolean {
    const now = this.now();
    if (now - this.link.readAt >= MDNS_DISCOVERY_DEFAULTS.interfacesRefreshMs) this.link = { readAt: now, interfaces: this.interfaces() };
    return isOnLink(source, this.link.interfaces);
  }

  private isSelf(address: PeerAddress): boolean {
    return address.port === this.options.gossip.port && address.host === this.options.gossip.host;
  }

  private after(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.guard(run);
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Sends are synchronous up to the socket; an encoding error must not escape a timer or a handler. */
  private send(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.sendFailed(error as Error);
    }
  }

  private sendFailed(error: Error): void {
    this.problem('send', { err: error.message }, 'mDNS packet not sent (no multicast route? set --bind-addr to this network\'s address)');
  }

  /** A local problem (not a peer's packet) is a warning the first time, then debug: it repeats every few seconds. */
  private problem(kind: string, data: Record<string, unknown>, message: string): void {
    const first = !this.reported.has(kind);
    this.reported.add(kind);
    this.options.logger[first ? 'warn' : 'debug'](data, message);
  }

  /** Nothing a packet from the network causes may throw out of the socket's event handler. */
  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.countMalformed();
      this.options.logger.debug({ err: (error as Error).message }, 'mDNS packet ignored');
    }
  }

  private countMalformed(): void {
    this.malformed.count += 1;
    const now = this.now();
    if (now - this.malformed.reportedAt < MDNS_DISCOVERY_DEFAULTS.malformedReportMs) return;
    this.options.logger.debug({ malformed: this.malformed.count }, 'malformed mDNS packets ignored');
    this.malformed = { count: 0, reportedAt: now };
  }
}

function isLoopbackAddress(host: string): boolean {
  return host === '::1' || host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * The interface to speak mDNS on: the one the gossip port is bound to, when it is bound to one IPv4 address
 * of a non-loopback interface (a multi-homed host discovers on the network it gossips on, and a host
 * without a default route still sends); otherwise the system's choice.
 */
export function multicastInterfaceFor(bindHost: string, interfaces: Interfaces = networkInterfaces()): string | undefined {
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal && info.address === bindHost) return bindHost;
  }
  return undefined;
}
