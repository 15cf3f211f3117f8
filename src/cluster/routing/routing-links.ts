// Node-to-node routing links (cluster.md "Routing", "Security between nodes"): one TLS 1.3 connection per
// peer pair, both sides authenticated by certificates of the cluster CA naming their node id, carrying
// MessagePack frames. Server side: the gossip transport hands over TCP connections whose first byte is a TLS
// record (acceptSocket). Client side: dials the peer's routing address (its gossip address) on demand.
import { randomBytes } from 'node:crypto';
import { type Socket } from 'node:net';
import { connect, createSecureContext, Server as TlsServer, type SecureContext, type TLSSocket } from 'node:tls';
import type { AclMessage } from '../../messaging/message.ts';
import { ORIGIN_FEATURE, type RoutedMessage } from './message-codec.ts';
import type { TlsMaterial } from '../pki/tls-files.ts';
import { decodeValue, encodeValueFrame, FrameReader, FrameType, ROUTING_PROTOCOL_VERSION } from './frames.ts';
import { protocolCompatible, protocolRefusal } from './protocol-compat.ts';
import { PeerLink, RoutingLinkError, type AnswerRoom, type PeerLinkHost, type SendResult, type UndeliveredReason } from './peer-link.ts';
import { ROUTING_LINK_DEFAULTS, type RoutingLinkSettings } from './routing-options.ts';
import { AgeOrderedMap } from '../../messaging/age-ordered-map.ts';

export { RoutingLinkError, type AnswerRoom, type SendResult, type UndeliveredReason };

export interface RoutingLogger {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
  debug(data: Record<string, unknown>, message: string): void;
}

export interface RoutingLinksOptions {
  /** This node's id; must be the name in tls.certPem. */
  nodeId: string;
  tls: TlsMaterial;
  /** Where a peer's routing links are accepted (its `route` tag = its gossip address); undefined: unknown peer. */
  addressOf: (nodeId: string) => { host: string; port: number } | undefined;
  /** Refuses connections from a node that is not (or no longer) a member; default: every certified node. */
  isMember?: (nodeId: string) => boolean;
  settings?: Partial<RoutingLinkSettings>;
  logger?: RoutingLogger;
  random?: () => number;
  /** The routing protocol version this node speaks: ROUTING_PROTOCOL_VERSION (tests play other versions). */
  protocolVersion?: number;
  /** This node's Caxton version, sent in the hello so a refusal can name it. */
  softwareVersion?: string;
  /** The link features announced in the hello; default all this code reads (tests play an older peer with []). */
  linkFeatures?: readonly string[];
}

/** `origin`: the node where the API client that sent the message waits, when the peer named one (message-codec.ts). */
type MessageHandler = (fromNode: string, message: AclMessage, receiver: string, origin?: string) => void;
/** `room`: for a handler whose answer is large, room in the queue to the peer taken before building it. */
type RequestHandler = (fromNode: string, body: unknown, room: AnswerRoom) => unknown | Promise<unknown>;
type UndeliveredHandler = (node: string, messages: RoutedMessage[], reason: UndeliveredReason) => void;

const silentLogger: RoutingLogger = { info() {}, warn() {}, debug() {} };
/** Per-peer problems are logged once per minute per peer: a hostile or broken peer cannot flood the log. */
const BAD_PEER_LOG_INTERVAL_MS = 60_000;
const BAD_PEER_LOG_KEYS = 1024;
/** The refusal a peer sends before gossip has told it of this node (serverSecure's isMember check). */
const NOT_YET_MEMBER = /is not a member of this cluster$/;
/**
 * The refusal of a dial that crossed the peer's own (kept) dial: that connection is about to be adopted here,
 * so what is queued waits for it, as for NOT_YET_MEMBER, instead of being failed with a dial backoff. (A new
 * owner's first direct reply to a client's node crossed that node's dial, and every reply queued meanwhile
 * was dropped: issue 12.)
 */
const CROSSING = /^crossing connection/;
/** Retried every 100 ms for up to 3 s: a join reaches every member well within that (push-pull at join). */
const NOT_YET_MEMBER_RETRY_MS = 100;
const NOT_YET_MEMBER_RETRIES = 30;
/** TCP keepalive on idle links: a peer that vanished without a FIN is noticed even when nothing is sent. */
const KEEPALIVE_MS = 10_000;

export interface RoutingLinkStats {
  linksUp: number;
  handshakes: number;
  refused: number;
  malformed: number;
}

export class RoutingLinks {
  readonly nodeId: string;
  /** Random per process: tells a peer's restart (a new instance) from a crossing dial of the same one. */
  readonly instance = randomBytes(8).toString('hex');
  readonly settings: RoutingLinkSettings;
  readonly stats = { refused: 0, malformed: 0, handshakesRefusedForLoad: 0 };
  private readonly links = new Map<string, PeerLink>();
  private readonly server: TlsServer;
  private clientContext: SecureContext;
  private readonly logger: RoutingLogger;
  private readonly random: () => number;
  private messageHandler: MessageHandler | undefined;
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private ackLatencyHandler: ((peer: string, ms: number) => void) | undefined;
  private undeliveredHandler: UndeliveredHandler | undefined;
  private readonly lastLogged = new Map<string, number>();
  /**
   * Accepted connections not yet through TLS + hello, by connectionKey: serverSecure gets a TLS socket, which
   * names no public link to the socket it wraps, but shares its address pair.
   */
  private readonly handshaking = new Map<string, Socket>();
  /** Peers whose last hello listed ORIGIN_FEATURE: kept after a peer's link is forgotten (it left), bounded. */
  private readonly originReaders = new AgeOrderedMap<string, true>();
  private closed = false;
  private readonly host: PeerLinkHost;
  /** The routing protocol version spoken and announced in the hello. */
  readonly protocolVersion: number;

  constructor(private readonly options: RoutingLinksOptions) {
    this.nodeId = options.nodeId;
    if (options.tls.nodeId !== options.nodeId) {
      throw new Error(`routing: the node certificate names '${options.tls.nodeId}', but this node is '${options.nodeId}'`);
    }
    this.settings = { ...ROUTING_LINK_DEFAULTS, ...options.settings };
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.protocolVersion = options.protocolVersion ?? ROUTING_PROTOCOL_VERSION;
    this.server = new TlsServer({
      ...tlsOptions(options.tls),
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: this.settings.connectTimeoutMs,
    });
    this.server.on('secureConnection', (socket: TLSSocket) => this.serverSecure(socket));
    this.server.on('tlsClientError', (error, socket) => {
      this.stats.refused++;
      this.badPeer(`${socket.remoteAddress ?? '?'}`, `TLS handshake refused: ${error.message}`);
      // Node leaves the socket open when this event has a listener, a handshake that timed out included: a
      // ClientHello and then silence held one of maxHandshakes for ever, and 64 of them refused every peer.
      socket.destroy();
    });
    this.clientContext = createSecureContext(tlsOptions(options.tls));
    const links = this;
    this.host = {
      settings: this.settings,
      random: this.random,
      deliver: (from, message, receiver, origin) => {
        try {
          links.messageHandler?.(from, message, receiver, origin);
        } catch (error) {
          links.logger.warn({ peer: from, err: (error as Error).message }, 'routing: the message handler threw');
        }
      },
      serve: async (from, method, body, room) => {
        const handler = links.requestHandlers.get(method);
        if (!handler) throw new Error(`unknown method '${method}'`);
        return handler(from, body, room);
      },
      undelivered: (peer, messages, reason) => {
        try {
          links.undeliveredHandler?.(peer, messages, reason);
        } catch (error) {
          links.logger.warn({ peer, err: (error as Error).message }, 'routing: the undelivered handler threw');
        }
      },
      dial: (link) => links.dial(link),
      badPeer: (peer, what) => {
        links.stats.malformed++;
        links.badPeer(peer, what);
      },
      ackLatency: (peer, ms) => {
        try {
          links.ackLatencyHandler?.(peer, ms);
        } catch {
          // A metrics hook must not break the link.
        }
      },
    };
  }

  /** Hands over a TCP connection whose first bytes (`head`, already read) are a TLS ClientHello. */
  acceptSocket(socket: Socket, head?: Buffer): void {
    const key = connectionKey(socket);
    if (key === undefined) {
      socket.destroy(); // closed already: no address left
      return;
    }
    if (this.closed || this.handshaking.size >= this.settings.maxHandshakes) {
      this.stats.handshakesRefusedForLoad++;
      socket.destroy();
      return;
    }
    // Paused, so the head put back is read by TLS rather than emitted to no listener.
    socket.pause();
    if (head && head.length > 0) socket.unshift(head);
    socket.on('error', () => {});
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    this.handshaking.set(key, socket);
    socket.once('close', () => {
      if (this.handshaking.get(key) === socket) this.handshaking.delete(key);
    });
    // The TLS handshake is bounded by the server's handshakeTimeout; hello by serverSecure's timer.
    this.server.emit('connection', socket);
  }

  /**
   * `receiver`: the one receiver on `node` the message is for; the peer hands it to that receiver alone.
   * `origin`: the node where the client that sent it waits, told to peers that read it (message-codec.ts).
   */
  sendMessage(node: string, message: AclMessage, receiver: string, origin?: string): SendResult {
    const link = this.linkFor(node);
    return link ? link.send(message, receiver, origin) : 'unreachable';
  }

  request(node: string, method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const link = this.linkFor(node);
    if (!link) return Promise.reject(new RoutingLinkError('PEER_UNREACHABLE', `no routing address known for node '${node}'`));
    return link.request(method, body, timeoutMs);
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  onRequest(method: string, handler: RequestHandler): void {
    this.requestHandlers.set(method, handler);
  }

  onUndelivered(handler: UndeliveredHandler): void {
    this.undeliveredHandler = handler;
  }

  /** New TLS material (a renewed certificate or CA): used by connections made from now on. */
  updateTls(material: TlsMaterial): void {
    if (material.nodeId !== this.nodeId) {
      this.logger.warn({ names: material.nodeId, node: this.nodeId }, 'routing: reloaded certificate names another node; keeping the old one');
      return;
    }
    this.server.setSecureContext({ ...tlsOptions(material), requestCert: true, rejectUnauthorized: true } as Parameters<TlsServer['setSecureContext']>[0]);
    this.clientContext = createSecureContext(tlsOptions(material));
    this.logger.info({}, 'routing: TLS material reloaded');
  }

  /** Told of sampled round trips: a batch of messages written to a peer until its acknowledgement (one probe per link at a time). */
  onAckLatency(handler: (peer: string, ms: number) => void): void {
    this.ackLatencyHandler = handler;
  }

  /** Messages and bytes sent to and received from each peer a link exists for (metrics). */
  linkTraffic(): Array<{ node: string; messagesSent: number; bytesSent: number; messagesReceived: number; bytesReceived: number }> {
    return [...this.links.values()].map((l) => ({ node: l.peer, ...l.traffic }));
  }

  /** Links with hello done, and what each holds. */
  linkStates(): Array<{ node: string; up: boolean; outbound: boolean; queuedMessages: number; queuedBytes: number }> {
    return [...this.links.values()].map((l) => ({ node: l.peer, up: l.ready, outbound: l.outbound, queuedMessages: l.queuedMessages, queuedBytes: l.queuedBytes }));
  }

  /** Closes every link; what was queued or unacknowledged is reported undelivered (LINK_CLOSED). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const s of this.handshaking.values()) s.destroy();
    this.handshaking.clear();
  }

  /** Forgets a peer that left the cluster: its link closes and what it held is reported undelivered. */
  forget(node: string): void {
    const link = this.links.get(node);
    if (!link) return;
    this.links.delete(node);
    link.close();
  }

  private linkFor(node: string): PeerLink | undefined {
    if (this.closed || node === this.nodeId) return undefined;
    let link = this.links.get(node);
    if (!link) {
      if (!this.options.addressOf(node)) return undefined;
      link = new PeerLink(node, this.host);
      this.links.set(node, link);
    }
    return link;
  }

  private dial(link: PeerLink): void {
    const address = this.options.addressOf(link.peer);
    if (!address || this.closed) {
      setImmediate(() => link.dialFailed(undefined));
      return;
    }
    let socket: TLSSocket;
    try {
      socket = connect({
        host: address.host,
        port: address.port,
        secureContext: this.clientContext,
        minVersion: 'TLSv1.3',
        checkServerIdentity: (_host, cert) =>
          cert.subject?.CN === link.peer ? undefined : new Error(`the certificate at ${address.host}:${address.port} names '${cert.subject?.CN}', not '${link.peer}'`),
      });
    } catch (error) {
      this.badPeer(link.peer, `dial failed: ${(error as Error).message}`);
      setImmediate(() => link.dialFailed(undefined));
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    link.dialing(socket);
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      this.badPeer(link.peer, `dial failed: ${why}`);
      link.dialFailed(socket);
    };
    const timer = setTimeout(() => fail(`no hello within ${this.settings.connectTimeoutMs} ms`), this.settings.connectTimeoutMs);
    socket.on('error', (e) => fail(e.message));
    const onClose = (): void => fail('connection closed during hello');
    socket.once('close', onClose);
    socket.once('secureConnect', () => {
      socket.write(encodeValueFrame(FrameType.hello, this.hello()));
    });
    const reader = new FrameReader(64 * 1024);
    const onHello = (chunk: Buffer): void => {
      try {
        const frames = reader.push(chunk);
        if (frames.length === 0) return;
        const hello = parseHello(frames[0]);
        if (hello.refused && (NOT_YET_MEMBER.test(hello.refused) || CROSSING.test(hello.refused))) {
          // It has not heard of our join yet, or its own connection to us is the one kept: retried shortly
          // (unless that connection arrived meanwhile) with what is queued kept, not a failed dial.
          settled = true;
          clearTimeout(timer);
          socket.off('close', onClose);
          socket.destroy();
          link.notYetKnown(socket, NOT_YET_MEMBER_RETRY_MS, NOT_YET_MEMBER_RETRIES);
          return;
        }
        if (hello.refused) return fail(`refused by the peer: ${hello.refused}`);
        if (!protocolCompatible(hello.v, this.protocolVersion)) return this.incompatible(link.peer, hello, () => fail(protocolRefusal(hello.v, this.protocolVersion)));
        if (hello.node !== link.peer) return fail(`hello names '${hello.node}', not '${link.peer}'`);
        if (link.socket !== socket) return fail('superseded by the peer\'s own connection');
        settled = true;
        clearTimeout(timer);
        socket.off('data', onHello);
        socket.off('close', onClose);
        link.adopt(socket, true, hello.i, hello.f);
        this.noteFeatures(link.peer, hello.f);
        this.logger.info({ peer: link.peer, outbound: true }, 'routing: link up');
        const rest = reader.rest();
        if (frames.length > 1 || rest.length > 0) fail('frames before hello completed');
      } catch (error) {
        fail((error as Error).message);
      }
    };
    socket.on('data', onHello);
  }

  private serverSecure(socket: TLSSocket): void {
    const peer = socket.getPeerCertificate()?.subject?.CN;
    if (!socket.authorized || typeof peer !== 'string') {
      this.stats.refused++;
      this.badPeer(socket.remoteAddress ?? '?', `refused: ${socket.authorizationError ?? 'no certificate name'}`);
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    const key = connectionKey(socket);
    const helloTimer = setTimeout(() => socket.destroy(), this.settings.connectTimeoutMs);
    helloTimer.unref();
    const reader = new FrameReader(64 * 1024);
    const refuse = (why: string): void => {
      this.stats.refused++;
      this.badPeer(peer, `refused: ${why}`);
      try {
        socket.end(encodeValueFrame(FrameType.hello, { ...this.hello(), refused: why }));
      } catch {
        socket.destroy();
      }
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const onHello = (chunk: Buffer): void => {
      try {
        const frames = reader.push(chunk);
        if (frames.length === 0) return;
        socket.off('data', onHello);
        clearTimeout(helloTimer);
        // Hello is in: the link is up or refused, and either way no longer a handshake against maxHandshakes.
        if (key !== undefined) this.handshaking.delete(key);
        const hello = parseHello(frames[0]);
        if (frames.length > 1 || reader.rest().length > 0) return refuse('frames before hello completed');
        if (!protocolCompatible(hello.v, this.protocolVersion)) return this.incompatible(peer, hello, () => refuse(protocolRefusal(hello.v, this.protocolVersion)));
        if (hello.node !== peer) return refuse(`hello names '${hello.node}' but the certificate names '${peer}'`);
        if (peer === this.nodeId) return refuse('a connection from this node itself');
        if (this.options.isMember && !this.options.isMember(peer)) return refuse(`'${peer}' is not a member of this cluster`);
        if (this.closed) return refuse('node closing');
        let link = this.links.get(peer);
        if (link?.socket && link.outbound && this.nodeId < peer && (!link.ready || link.peerInstance === hello.i)) {
          // Both dialled at once: the lower node id's outgoing connection is the one kept, on both sides. Not
          // when the peer is another process than the one ours reached (it restarted): ours is half-open then,
          // and refusing would shut the peer out until we next write.
          return refuse('crossing connection: the lower node id\'s connection is kept');
        }
        if (!link) {
          link = new PeerLink(peer, this.host);
          this.links.set(peer, link);
        }
        clearTimeout(helloTimer);
        socket.write(encodeValueFrame(FrameType.hello, this.hello()));
        link.adopt(socket, false, hello.i, hello.f);
        this.noteFeatures(peer, hello.f);
        this.logger.info({ peer, outbound: false }, 'routing: link up');
      } catch (error) {
        refuse((error as Error).message);
      }
    };
    socket.on('data', onHello);
  }

  /**
   * True when `node`'s last hello (on a link that may be gone by now) listed ORIGIN_FEATURE: what it
   * forwarded for clients named their origin, so the owners answered those clients directly.
   */
  readsOrigins(node: string): boolean {
    return this.originReaders.has(node);
  }

  private noteFeatures(peer: string, features: readonly string[]): void {
    this.originReaders.delete(peer);
    if (!features.includes(ORIGIN_FEATURE)) return;
    this.originReaders.set(peer, true);
    // One entry per peer ever linked: members come and go; the oldest go first past the bound.
    if (this.originReaders.size > MAX_PEERS_REMEMBERED) this.originReaders.shift();
  }

  private hello(): Record<string, unknown> {
    return {
      v: this.protocolVersion,
      node: this.nodeId,
      i: this.instance,
      // Optional link features (protocol-compat.ts): an older peer ignores the field and is sent none of them.
      f: this.options.linkFeatures ?? LINK_FEATURES,
      ...(this.options.softwareVersion ? { cv: this.options.softwareVersion } : {}),
    };
  }

  /** An incompatible peer: one warning naming both versions (once a minute per peer), then the refusal. */
  private incompatible(peer: string, hello: { v: number; cv?: string }, refuse: () => void): void {
    const now = Date.now();
    const key = `incompatible ${peer}`;
    const last = this.lastLogged.get(key);
    if (last === undefined || now - last >= BAD_PEER_LOG_INTERVAL_MS) {
      if (this.lastLogged.size >= BAD_PEER_LOG_KEYS) this.lastLogged.clear();
      this.lastLogged.set(key, now);
      this.logger.warn(
        { peer, peer_protocol: hello.v, peer_version: hello.cv ?? 'unknown', protocol: this.protocolVersion, version: this.options.softwareVersion ?? 'unknown' },
        `routing: refused incompatible peer '${peer}': ${protocolRefusal(hello.v, this.protocolVersion)}`,
      );
    }
    refuse();
  }

  private badPeer(peer: string, what: string): void {
    const now = Date.now();
    const key = `${peer} ${what.slice(0, 40)}`;
    const last = this.lastLogged.get(peer);
    if (last !== undefined && now - last < BAD_PEER_LOG_INTERVAL_MS) return;
    if (this.lastLogged.size >= BAD_PEER_LOG_KEYS) this.lastLogged.clear();
    this.lastLogged.set(peer, now);
    this.logger.warn({ peer, detail: key }, `routing: ${what}`);
  }
}

/** A TCP connection's address pair: unique among open connections, and the same on a TLS socket over it. */
function connectionKey(socket: Socket): string | undefined {
  if (socket.remoteAddress === undefined) return undefined;
  return `${socket.localAddress}:${socket.localPort} ${socket.remoteAddress}:${socket.remotePort}`;
}

function tlsOptions(material: TlsMaterial): { key: string; cert: string; ca: string; minVersion: 'TLSv1.3' } {
  return { key: material.keyPem, cert: material.certPem, ca: material.caPem, minVersion: 'TLSv1.3' };
}

/** What this node's links read beyond the protocol version's frames, announced in the hello (`f`). */
const LINK_FEATURES: readonly string[] = [ORIGIN_FEATURE];
/** Peers whose link features are remembered after their link went (one short string each). */
const MAX_PEERS_REMEMBERED = 4096;
/** A hello lists at most this many features of at most 32 characters; the rest are ignored. */
const MAX_HELLO_FEATURES = 16;

function parseHello(frame: { type: number; payload: Buffer }): { v: number; node: string; i: string; f: string[]; cv?: string; refused?: string } {
  if (frame.type !== FrameType.hello) throw new Error(`expected hello, got frame type ${frame.type}`);
  const value = decodeValue(frame.payload) as Record<string, unknown> | null;
  if (typeof value !== 'object' || value === null || typeof value.v !== 'number' || typeof value.node !== 'string') {
    throw new Error('malformed hello');
  }
  return {
    v: value.v,
    node: value.node,
    i: typeof value.i === 'string' ? value.i.slice(0, 64) : '',
    f: Array.isArray(value.f) ? value.f.slice(0, MAX_HELLO_FEATURES).filter((x): x is string => typeof x === 'string' && x.length <= 32) : [],
    ...(typeof value.cv === 'string' ? { cv: value.cv.slice(0, 64) } : {}),
    ...(typeof value.refused === 'string' ? { refused: value.refused.slice(0, 300) } : {}),
  };
}
