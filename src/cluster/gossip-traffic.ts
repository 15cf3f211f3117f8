// Gossip traffic of one node in bytes, for `caxton cluster performance` and the benchmark: a decorator of
// the transport that adds up the encoded size of what passes through it. Sizes are memberlist's framing
// (compound header, encryption overhead) recomputed from the messages, not counted off the socket, so
// they are exact for plaintext and within the CRC/compression difference otherwise.
import type { PacketMessage, PushPull } from './membership/messages.ts';
import type { MessageTransport, PeerAddress } from './membership/transport.ts';
import { pushPullSize } from './wire/pushpull.ts';

export interface GossipTraffic {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  pushPulls: number;
}

/** memberlist compound framing: type byte + count byte, then a u16 length per part. */
const compoundBytes = (parts: number): number => (parts > 1 ? 2 + 2 * parts : 0);

export class CountingTransport implements MessageTransport {
  readonly traffic: GossipTraffic = { packetsSent: 0, packetsReceived: 0, bytesSent: 0, bytesReceived: 0, pushPulls: 0 };

  constructor(
    private readonly inner: MessageTransport,
    /** Bytes encryption adds to each packet and stream (0 without a keyring). */
    private readonly encryptionOverhead: number,
  ) {}

  get localAddress(): PeerAddress {
    return this.inner.localAddress;
  }

  get maxPacketBytes(): number {
    return this.inner.maxPacketBytes;
  }

  messageSize(message: PacketMessage): number {
    return this.inner.messageSize(message);
  }

  sendPackets(to: PeerAddress, messages: PacketMessage[]): void {
    this.traffic.packetsSent += 1;
    this.traffic.bytesSent += this.packetBytes(messages);
    this.inner.sendPackets(to, messages);
  }

  onPackets(handler: (from: PeerAddress, messages: PacketMessage[]) => void): void {
    this.inner.onPackets((from, messages) => {
      this.traffic.packetsReceived += 1;
      this.traffic.bytesReceived += this.packetBytes(messages);
      handler(from, messages);
    });
  }

  async pushPull(to: PeerAddress, local: PushPull, timeoutMs: number): Promise<PushPull> {
    this.traffic.pushPulls += 1;
    this.traffic.bytesSent += this.stateBytes(local);
    const remote = await this.inner.pushPull(to, local, timeoutMs);
    this.traffic.bytesReceived += this.stateBytes(remote);
    return remote;
  }

  onPushPull(handler: (from: PeerAddress, remote: PushPull) => PushPull): void {
    this.inner.onPushPull((from, remote) => {
      this.traffic.pushPulls += 1;
      this.traffic.bytesReceived += this.stateBytes(remote);
      const reply = handler(from, remote);
      this.traffic.bytesSent += this.stateBytes(reply);
      return reply;
    });
  }

  streamPing(to: PeerAddress, ping: PacketMessage, timeoutMs: number): Promise<boolean> {
    this.traffic.bytesSent += this.packetBytes([ping]);
    return this.inner.streamPing(to, ping, timeoutMs);
  }

  onStreamMessage(handler: (from: PeerAddress, message: PacketMessage) => PacketMessage | undefined): void {
    this.inner.onStreamMessage((from, message) => {
      this.traffic.bytesReceived += this.packetBytes([message]);
      return handler(from, message);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private packetBytes(messages: PacketMessage[]): number {
    let bytes = compoundBytes(messages.length) + this.encryptionOverhead;
    for (const m of messages) bytes += this.inner.messageSize(m);
    return bytes;
  }

  private stateBytes(state: PushPull): number {
    return pushPullSize(state) + this.encryptionOverhead;
  }
}
