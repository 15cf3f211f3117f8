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
import { frameStream, type StreamMessage, type StreamOptions } from '../wire/stream.ts';
import { newWireStats, type WireStats } from '../wire/wire-stats.ts';
import { defaultAdvertiseHost, NET_TRANSPORT_DEFAULTS, type NetTransportOptions } from './net-transport-options.ts';
import { readStreamMessage } from './stream-reader.ts';

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
  readonly stats: NetTransportStats = { ...newWireStats(), packetsReceived: 0, packetsSent: 0, streamsAccepted: 0, streamErrors: 0, sendErrors: 0, handlerErrors: 0 };
  private packetHandler: PacketHandler | undefined;
  private pushPullHandler: PushPullHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  /** By first byte: protocols sharing the gossip TCP port (routing TLS 0x16, enrollment 0xCE). */
  private readonly foreignStreams = new Map<number, ForeignStreamHandler>();
  private readonly streamOptions: StreamOptions;
  private readonly openSockets = new Set<Socket>();
  private closed = false;

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly bindAddress: PeerAddress,
    private readonly keyring: Keyring | undefined,
    private readonly encryptionVersion: EncryptionVersion,
    private readonly compress: boolean,
    private readonly crcFor: (to: PeerAddress) => boolean,
    private readonly tcpTimeoutMs: number,
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
    tcp.on('connection', (socket) => this.acceptStream(socket));
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
        options.tcpTimeoutMs ?? NET_TRANSPORT_DEFAULTS.tcpTimeoutMs,
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
    const reply = await this.exchange(to, encodePushPull(local), timeoutMs, true);
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
      const messages = decodePacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), this.keyring, this.stats);
      if (messages.length === 0 || !this.packetHandler) return;
      this.packetHandler(from, messages);
    } catch (e) {
      this.stats.handlerErrors++;
      this.onError(e as Error);
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
      const reply = readStreamMessage(socket, this.keyring, remaining);
      socket.write(framed);
      return reply;
    };
    return run().finally(() => {
      socket.destroy();
      this.openSockets.delete(socket);
    });
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
      const peekTimer = setTimeout(() => socket.destroy(), this.tcpTimeoutMs);
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
    readStreamMessage(socket, this.keyring, this.tcpTimeoutMs).then(
      (message) => this.answerStream(socket, from, message),
      (e: Error) => {
        this.stats.streamErrors++;
        // memberlist answers a stream it could not read with an errResp carrying the reason.
        if (!socket.destroyed && socket.writable) socket.end(frameStream(encodeMessage({ type: 'err', error: e.message }), this.streamOptions));
        else socket.destroy();
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
      this.onError(e as Error);
    }
    if (reply) socket.end(frameStream(reply, this.streamOptions));
    else socket.end();
  }
}

function always(): boolean {
  return true;
}

function never(): boolean {
  return false;
}
