// MessageTransport over the real network, speaking memberlist's wire protocol: UDP datagrams and TCP
// streams on one gossip port (memberlist net_transport.go + the framing of net.go). The SWIM core above
// sees plain messages; this file only moves bytes and counts what it refused.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { PacketMessage, PushPull } from '../membership/messages.ts';
import type { MessageTransport, PeerAddress } from '../membership/transport.ts';
import { encodeMessage } from '../wire/codec.ts';
import { CRC_HEADER_BYTES } from '../wire/crc.ts';
import type { Keyring } from '../wire/keyring.ts';
import { decodePacket, encodePacket } from '../wire/packet.ts';
import { encodePushPull, encodeUserStream } from '../wire/pushpull.ts';
import { type EncryptionVersion, encryptOverhead } from '../wire/security.ts';
import { frameStream, type StreamMessage, type StreamOptions, StreamTooLarge } from '../wire/stream.ts';
import { newWireStats, type WireStats } from '../wire/wire-stats.ts';
import { defaultAdvertiseHost, type InputRefusal, NET_TRANSPORT_DEFAULTS, type NetTransportOptions, STREAM_FREE_BYTES } from './net-transport-options.ts';
import { SourceLogLimit } from './source-log-limit.ts';
import { StreamBudget } from './stream-budget.ts';

/** A refused stream's answer gets this long to leave before the connection is cut regardless. */
const STREAM_REFUSAL_LINGER_MS = 1_000;
import { readStreamMessage, type StreamReadLimits } from './stream-reader.ts';
import { describeError } from '../../errors.ts';

export interface NetTransportStats extends WireStats {
  packetsReceived: number;
  packetsSent: number;
  streamsAccepted: number;
  /** Incoming streams that failed (malformed, wrong key, timeout, handler error). */
  streamErrors: number;
  /** Datagrams that could not be encoded or sent. */
  sendErrors: number;
  /** Datagrams whose decoding or handling threw (caught by the last-resort guard). */
  handlerErrors: number;
  /** Incoming connections closed at once because maxIncomingStreams were already open. */
  refusedStreams: number;
  /** Incoming streams refused for their size: over maxStreamBytes, or the shared budget was spent. */
  oversizedStreams: number;
}

/** The stream limits and reporting a NetTransport applies, resolved from NetTransportOptions. */
interface StreamGuards {
  maxIncomingStreams: number;
  incoming: StreamReadLimits;
  reply: StreamReadLimits;
  onRefused: ((refusal: InputRefusal) => void) | undefined;
}

type PacketHandler = (from: PeerAddress, messages: PacketMessage[]) => void;
type PushPullHandler = (from: PeerAddress, remote: PushPull) => PushPull;
type StreamHandler = (from: PeerAddress, message: PacketMessage) => PacketMessage | undefined;
/** Takes over a TCP connection on the gossip port whose first bytes (`head`) belong to another protocol. */
export type ForeignStreamHandler = (socket: Socket, head: Buffer) => void;

/** How often listen() retries when the UDP half of a random port (bindPort 0) is taken. */
const BIND_ATTEMPTS = 10;

const peerOf = (host: string | undefined, port: number | undefined): PeerAddress => ({
  host: (host ?? '').replace(/^::ffff:(?=\d+\.)/, ''),
  port: port ?? 0,
});

export class NetTransport implements MessageTransport {
  readonly localAddress: PeerAddress;
  readonly maxPacketBytes: number;
  readonly stats: NetTransportStats = {
    ...newWireStats(),
    packetsReceived: 0,
    packetsSent: 0,
    streamsAccepted: 0,
    streamErrors: 0,
    sendErrors: 0,
    handlerErrors: 0,
    refusedStreams: 0,
    oversizedStreams: 0,
  };
  private packetHandler: PacketHandler | undefined;
  private pushPullHandler: PushPullHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  /** By first byte: protocols sharing the gossip TCP port (routing TLS 0x16, enrollment 0xCE). */
  private readonly foreignStreams = new Map<number, ForeignStreamHandler>();
  private readonly streamOptions: StreamOptions;
  private readonly openSockets = new Set<Socket>();
  /** Accepted sockets that count against maxIncomingStreams (until closed or released). */
  private readonly incoming = new Set<Socket>();
  private readonly refusalLog = new SourceLogLimit({ intervalMs: NET_TRANSPORT_DEFAULTS.refusalLogIntervalMs, maxSources: 1024, now: Date.now });
  private closed = false;

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly bindAddress: PeerAddress,
    private readonly keyring: Keyring | undefined,
    private readonly encryptionVersion: EncryptionVersion,
    private readonly compress: boolean,
    private readonly crcFor: (to: PeerAddress) => boolean,
    private readonly guards: StreamGuards,
    udpBufferBytes: number,
    advertise: PeerAddress | undefined,
    private readonly onError: (error: Error) => void,
  ) {
    this.localAddress = advertise ?? { host: defaultAdvertiseHost(bindAddress.host), port: bindAddress.port };
    // The core fills packets up to this; what framing adds afterwards must still fit the UDP budget.
    const crcOverhead = crcFor === never ? 0 : CRC_HEADER_BYTES;
    this.maxPacketBytes = udpBufferBytes - (keyring ? encryptOverhead(encryptionVersion) : 0) - crcOverhead;
    this.streamOptions = { keyring, encryptionVersion, compress };
    udp.on('message', (buf, rinfo) => this.receivePacket(buf, peerOf(rinfo.address, rinfo.port)));
    udp.on('error', (e) => this.onError(e));
    tcp.on('connection', (socket) => this.admitStream(socket));
    tcp.on('error', (e) => this.onError(e));
  }

  /** Binds the gossip port (TCP first, then UDP on the same number) and starts receiving. */
  static async listen(options: NetTransportOptions = {}): Promise<NetTransport> {
    const host = options.bindHost ?? NET_TRANSPORT_DEFAULTS.bindHost;
    const port = options.bindPort ?? NET_TRANSPORT_DEFAULTS.bindPort;
    const crc = options.crc ?? NET_TRANSPORT_DEFAULTS.crc;
    const crcFor = typeof crc === 'function' ? crc : crc ? always : never;
    for (let attempt = 1; ; attempt++) {
      const tcp = createServer({ noDelay: true });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      const boundPort = (tcp.address() as { port: number }).port;
      const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(boundPort, host, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        udp.close();
        await new Promise((r) => tcp.close(r));
        if (port === 0 && attempt < BIND_ATTEMPTS) continue;
        throw e;
      }
      try {
        // memberlist asks for 2 MiB so bursts of gossip are not dropped by the kernel; best effort.
        udp.setRecvBufferSize(2 * 1024 * 1024);
      } catch {
        /* the kernel limit applies */
      }
      return new NetTransport(
        udp,
        tcp,
        { host, port: boundPort },
        options.keyring,
        options.encryptionVersion ?? NET_TRANSPORT_DEFAULTS.encryptionVersion,
        options.compress ?? NET_TRANSPORT_DEFAULTS.compress,
        crcFor,
        guardsFrom(options),
        options.udpBufferBytes ?? NET_TRANSPORT_DEFAULTS.udpBufferBytes,
        options.advertise,
        options.onError ?? (() => {}),
      );
    }
  }

  messageSize(message: PacketMessage): number {
    return encodeMessage(message).length;
  }

  sendPackets(to: PeerAddress, messages: PacketMessage[]): void {
    if (this.closed || messages.length === 0) return;
    let packet: Uint8Array;
    try {
      packet = encodePacket(messages, { keyring: this.keyring, encryptionVersion: this.encryptionVersion, compress: this.compress, crc: this.crcFor(to) });
    } catch (e) {
      this.stats.sendErrors++;
      this.onError(e as Error);
      return;
    }
    // dgram.send throws synchronously for a bad port or address; whatever a peer made us send to must
    // never leave this method as an exception.
    try {
      this.udp.send(packet, to.port, to.host, (e) => {
        if (e) {
          this.stats.sendErrors++;
          this.onError(e);
        }
      });
      this.stats.packetsSent++;
    } catch (e) {
      this.stats.sendErrors++;
      this.onError(e as Error);
    }
  }

  onPackets(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  async pushPull(to: PeerAddress, local: PushPull, timeoutMs: number): Promise<PushPull> {
    const reply = await this.exchange(to, encodePushPull(local), timeoutMs, true).catch((e: Error) => {
      throw new Error(withLikelyCause(e.message));
    });
    if (reply.kind === 'pushPull') return reply.pushPull;
    if (reply.kind === 'message' && reply.message.type === 'err') throw new Error(`remote error: ${reply.message.error}`);
    throw new Error(`push-pull with ${to.host}:${to.port}: unexpected reply ${reply.kind === 'unknown' ? reply.messageType : reply.kind}`);
  }

  onPushPull(handler: PushPullHandler): void {
    this.pushPullHandler = handler;
  }

  async streamPing(to: PeerAddress, ping: PacketMessage, timeoutMs: number): Promise<boolean> {
    if (ping.type !== 'ping') throw new TypeError('streamPing sends a ping');
    try {
      const reply = await this.exchange(to, encodeMessage(ping), timeoutMs, true);
      return reply.kind === 'message' && reply.message.type === 'ackResp' && reply.message.seqNo === ping.seqNo;
    } catch {
      // memberlist: a node that cannot be reached over TCP either is simply not acked.
      return false;
    }
  }

  /** A user message over a stream (memberlist SendReliable); resolves once written. */
  async sendUserStream(to: PeerAddress, payload: Uint8Array, timeoutMs: number): Promise<void> {
    await this.exchange(to, encodeUserStream(payload), timeoutMs, false);
  }

  onStreamMessage(handler: StreamHandler): void {
    this.streamHandler = handler;
  }

  /**
   * Connections whose first byte is `marker` go to `handler` instead of memberlist. The marker must not be a
   * memberlist message type nor its label byte: 0x16 (a TLS handshake record) and 0xCE are neither.
   */
  onForeignStream(marker: number, handler: ForeignStreamHandler): void {
    this.foreignStreams.set(marker, handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.openSockets) s.destroy();
    await Promise.all([new Promise((r) => this.udp.close(() => r(undefined))), new Promise((r) => this.tcp.close(() => r(undefined)))]);
  }

  private receivePacket(buf: Buffer, from: PeerAddress): void {
    this.stats.packetsReceived++;
    // The last-resort guard for anything a datagram provokes: counted and reported, never thrown.
    try {
      const dropsBefore = wireDrops(this.stats);
      const messages = decodePacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), this.keyring, this.stats);
      const cause = wireDropCause(this.stats, dropsBefore);
      if (cause) this.refused(from, 'udp', cause);
      if (messages.length === 0 || !this.packetHandler) return;
      this.packetHandler(from, messages);
    } catch (e) {
      this.stats.handlerErrors++;
      this.refused(from, 'udp', 'handlerErrors', e);
      this.onError(e as Error);
    }
  }

  /** Reports a refusal through onRefused, at most once per source host per interval; never throws. */
  private refused(from: PeerAddress, transport: 'udp' | 'tcp', cause: string, error?: unknown): void {
    const report = this.guards.onRefused;
    if (!report) return;
    const suppressed = this.refusalLog.admit(from.host);
    if (suppressed === undefined) return;
    try {
      const detail = error === undefined ? undefined : describeError(error);
      report({ source: `${from.host}:${from.port}`, transport, cause, detail, suppressed });
    } catch {
      /* a failing logger must not turn a refusal into a crash */
    }
  }

  /** Dials, writes one framed message, and (when asked) reads the peer's reply, all within timeoutMs. */
  private exchange(to: PeerAddress, msg: Uint8Array, timeoutMs: number, awaitReply: true): Promise<StreamMessage>;
  private exchange(to: PeerAddress, msg: Uint8Array, timeoutMs: number, awaitReply: false): Promise<void>;
  private exchange(to: PeerAddress, msg: Uint8Array, timeoutMs: number, awaitReply: boolean): Promise<StreamMessage | void> {
    if (this.closed) return Promise.reject(new Error('transport closed'));
    let framed: Uint8Array;
    let socket: Socket;
    try {
      framed = frameStream(msg, this.streamOptions);
      socket = connect({ host: to.host, port: to.port, noDelay: true });
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.openSockets.add(socket);
    socket.on('error', () => {}); // reported through the promises below; never an uncaught 'error'
    const started = Date.now();
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connect to ${to.host}:${to.port} timed out`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const run = async (): Promise<StreamMessage | void> => {
      await connected;
      const remaining = Math.max(1, timeoutMs - (Date.now() - started));
      if (!awaitReply) {
        await new Promise<void>((resolve, reject) => socket.end(framed, () => resolve()).once('error', reject));
        return;
      }
      const reply = readStreamMessage(socket, this.keyring, { ...this.guards.reply, deadlineMs: remaining, headerTimeoutMs: remaining });
      socket.write(framed);
      return reply;
    };
    return run().finally(() => {
      socket.destroy();
      this.openSockets.delete(socket);
    });
  }

  /**
   * Every accepted TCP connection counts against maxIncomingStreams until it closes (or is released),
   * whatever it turns out to carry, so the cap holds before a single byte is read.
   */
  private admitStream(socket: Socket): void {
    if (this.closed || this.incoming.size >= this.guards.maxIncomingStreams) {
      if (!this.closed) {
        this.stats.refusedStreams++;
        this.refused(peerOf(socket.remoteAddress, socket.remotePort), 'tcp', 'refusedStreams', `${this.incoming.size} incoming streams already open`);
      }
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.incoming.add(socket);
    socket.once('close', () => this.incoming.delete(socket));
    this.acceptStream(socket);
  }

  /** Stops counting a socket against maxIncomingStreams (a long-lived connection handed to another layer). */
  releaseIncoming(socket: Socket): void {
    this.incoming.delete(socket);
  }

  private acceptStream(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.stats.streamsAccepted++;
    this.openSockets.add(socket);
    socket.setNoDelay(true);
    const from = peerOf(socket.remoteAddress, socket.remotePort);
    socket.on('error', () => {});
    socket.once('close', () => this.openSockets.delete(socket));
    if (this.foreignStreams.size > 0) {
      // One byte tells the protocol: memberlist, or one handed over (it then owns the socket and its bounds).
      const peekTimer = setTimeout(() => socket.destroy(), this.guards.incoming.headerTimeoutMs);
      socket.once('close', () => clearTimeout(peekTimer));
      socket.once('data', (head: Buffer) => {
        clearTimeout(peekTimer);
        socket.pause();
        const foreign = this.foreignStreams.get(head[0]);
        if (!foreign) {
          socket.unshift(head);
          this.readGossipStream(socket, from);
          socket.resume(); // pause() above made flowing explicit: a new 'data' listener alone would not restart it
          return;
        }
        this.openSockets.delete(socket);
        // Handed over: a long-lived routing link, bounded by its own layer, not a gossip stream.
        this.releaseIncoming(socket);
        try {
          foreign(socket, head);
        } catch (e) {
          socket.destroy();
          this.onError(e as Error);
        }
      });
      return;
    }
    this.readGossipStream(socket, from);
  }

  private readGossipStream(socket: Socket, from: PeerAddress): void {
    readStreamMessage(socket, this.keyring, this.guards.incoming).then(
      (message) => this.answerStream(socket, from, message),
      (e: Error) => {
        this.stats.streamErrors++;
        if (e instanceof StreamTooLarge) this.stats.oversizedStreams++;
        this.refused(from, 'tcp', e instanceof StreamTooLarge ? 'oversizedStreams' : 'streamErrors', e);
        // memberlist answers a stream it could not read with an errResp carrying the reason, then closes. Not a
        // half-close: the socket would stay readable, and the rest of a refused 15 MiB body would be read (and
        // dropped) at the sender's pace; it stops reading now and closes once the answer is flushed.
        try {
          if (!socket.destroyed && socket.writable) {
            socket.pause();
            socket.end(frameStream(encodeMessage({ type: 'err', error: e.message }), this.streamOptions), () => socket.destroy());
            setTimeout(() => socket.destroy(), STREAM_REFUSAL_LINGER_MS).unref();
          } else socket.destroy();
        } catch {
          socket.destroy();
        }
      },
    );
  }

  private answerStream(socket: Socket, from: PeerAddress, received: StreamMessage): void {
    let reply: Uint8Array | undefined;
    try {
      if (received.kind === 'pushPull') {
        if (this.pushPullHandler) reply = encodePushPull(this.pushPullHandler(from, received.pushPull));
      } else if (received.kind === 'message') {
        const answer = this.streamHandler?.(from, received.message);
        if (answer) reply = encodeMessage(answer);
      } else {
        this.stats.unknownType++;
      }
    } catch (e) {
      this.stats.streamErrors++;
      this.refused(from, 'tcp', 'streamErrors', e);
      this.onError(e as Error);
    }
    try {
      if (reply) socket.end(frameStream(reply, this.streamOptions));
      else socket.end();
    } catch (e) {
      this.stats.streamErrors++;
      this.onError(e as Error);
      socket.destroy();
    }
  }
}

function guardsFrom(options: NetTransportOptions): StreamGuards {
  const d = NET_TRANSPORT_DEFAULTS;
  const deadlineMs = options.tcpTimeoutMs ?? d.tcpTimeoutMs;
  const maxBytes = options.maxStreamBytes ?? d.maxStreamBytes;
  const budget = new StreamBudget(options.streamBudgetBytes ?? d.streamBudgetBytes, STREAM_FREE_BYTES);
  const maxPushPullNodes = options.maxPushPullNodes ?? d.maxPushPullNodes;
  return {
    maxIncomingStreams: options.maxIncomingStreams ?? d.maxIncomingStreams,
    incoming: { deadlineMs, headerTimeoutMs: Math.min(deadlineMs, options.streamHeaderTimeoutMs ?? d.streamHeaderTimeoutMs), maxBytes, budget, maxPushPullNodes },
    // A reply to our own request: bounded in size, not in the budget (we chose to ask).
    reply: { deadlineMs, headerTimeoutMs: deadlineMs, maxBytes, maxPushPullNodes },
    onRefused: options.onRefused,
  };
}

const WIRE_DROP_CAUSES = ['unknownType', 'malformed', 'truncatedParts', 'badCrc', 'decryptFailed', 'unencrypted', 'labelled'] as const;

function wireDrops(stats: WireStats): number[] {
  return WIRE_DROP_CAUSES.map((k) => stats[k]);
}

/** The counter a datagram moved (the first, when a compound moved several), or undefined. */
function wireDropCause(stats: WireStats, before: number[]): string | undefined {
  return WIRE_DROP_CAUSES.find((k, i) => stats[k] !== before[i]);
}

/** A join that fails on the peer's answer: the probable misconfiguration, for the operator's one log line. */
function withLikelyCause(message: string): string {
  if (/could not decrypt|No installed keys/i.test(message)) return `${message} (the peer uses a different gossip key)`;
  if (/Remote state is encrypted/.test(message)) return `${message} (the peer encrypts gossip: set cluster.encrypt)`;
  if (/remote state is not encrypted/.test(message)) return `${message} (the peer does not encrypt gossip)`;
  if (/closed before a complete message/.test(message)) {
    return `${message} (the peer hung up without answering: a memberlist label it requires, a key it refuses, or not a gossip port)`;
  }
  return message;
}

function always(): boolean {
  return true;
}

function never(): boolean {
  return false;
}
