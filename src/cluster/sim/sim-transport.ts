// MessageTransport over the simulated network: datagrams may be lost or delayed, streams are reliable but
// fail (after their timeout) when the peer is crashed or on the other side of a partition.
import type { PacketMessage, PushPull } from '../membership/messages.ts';
import type { MessageTransport, PeerAddress } from '../membership/transport.ts';
import { estimateMessageSize, estimatePushPullSize } from './message-size.ts';
import type { SimHost, SimNetwork } from './sim-network.ts';

const UDP_HEADER_BYTES = 28;

export class SimTransport implements MessageTransport {
  readonly maxPacketBytes = 1400;
  private packetHandler: ((from: PeerAddress, messages: PacketMessage[]) => void) | undefined;
  private pushPullHandler: ((from: PeerAddress, remote: PushPull) => PushPull) | undefined;
  private streamHandler: ((from: PeerAddress, message: PacketMessage) => PacketMessage | undefined) | undefined;
  private closed = false;

  constructor(
    private readonly net: SimNetwork,
    private readonly host: SimHost,
  ) {}

  get localAddress(): PeerAddress {
    return this.host.address;
  }

  messageSize(message: PacketMessage): number {
    return estimateMessageSize(message);
  }

  sendPackets(to: PeerAddress, messages: PacketMessage[]): void {
    const { net, host } = this;
    if (this.closed || host.crashed) return;
    let bytes = UDP_HEADER_BYTES + (messages.length > 1 ? 2 + 2 * messages.length : 0);
    for (const m of messages) bytes += estimateMessageSize(m);
    host.bytesSent += bytes;
    host.packetsSent += 1;
    const target = net.hostAt(to);
    if (!target || !net.canReach(host, target)) return;
    if (net.lossRate > 0 && net.random() < net.lossRate) return;
    const from = host.address;
    net.schedule(target, net.linkLatency(host, target) + target.slowMs, () => {
      // A partition that started while the packet was in flight drops it too.
      if (target.partition !== host.partition) return;
      target.transport.deliverPackets(from, messages);
    });
  }

  onPackets(handler: (from: PeerAddress, messages: PacketMessage[]) => void): void {
    this.packetHandler = handler;
  }

  pushPull(to: PeerAddress, local: PushPull, timeoutMs: number): Promise<PushPull> {
    this.host.bytesSent += estimatePushPullSize(local);
    return this.exchange(to, timeoutMs, (target) => target.transport.answerPushPull(this.host.address, local), 'push-pull');
  }

  onPushPull(handler: (from: PeerAddress, remote: PushPull) => PushPull): void {
    this.pushPullHandler = handler;
  }

  async streamPing(to: PeerAddress, ping: PacketMessage, timeoutMs: number): Promise<boolean> {
    try {
      const reply = await this.exchange(to, timeoutMs, (target) => target.transport.answerStream(this.host.address, ping), 'stream ping');
      return reply?.type === 'ackResp';
    } catch {
      return false;
    }
  }

  onStreamMessage(handler: (from: PeerAddress, message: PacketMessage) => PacketMessage | undefined): void {
    this.streamHandler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  deliverPackets(from: PeerAddress, messages: PacketMessage[]): void {
    if (!this.closed) this.packetHandler?.(from, messages);
  }

  answerPushPull(from: PeerAddress, remote: PushPull): PushPull | undefined {
    if (this.closed || !this.pushPullHandler) return undefined;
    const reply = this.pushPullHandler(from, remote);
    this.host.bytesSent += estimatePushPullSize(reply);
    return reply;
  }

  answerStream(from: PeerAddress, message: PacketMessage): PacketMessage | undefined {
    if (this.closed || !this.streamHandler) return undefined;
    return this.streamHandler(from, message);
  }

  /** A request/response over a reliable stream, in virtual time, settled through the network. */
  private exchange<T>(to: PeerAddress, timeoutMs: number, answer: (target: SimHost) => T | undefined, what: string): Promise<T> {
    const { net, host } = this;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        net.markSettled();
        fn();
      };
      const timeout = net.at(timeoutMs, () => settle(() => reject(new Error(`${what} to ${to.host}:${to.port} timed out`))));
      const target = net.hostAt(to);
      // A stream is TCP: no connection at all unless packets pass both ways (a one-way cut stops it).
      if (this.closed || host.crashed || !target || !net.canReach(host, target) || !net.canReach(target, host)) return;
      net.schedule(target, net.linkLatency(host, target) + target.slowMs, () => {
        if (!net.canReach(host, target) || !net.canReach(target, host)) return;
        const reply = answer(target);
        if (reply === undefined) return;
        net.schedule(host, net.linkLatency(target, host) + host.slowMs, () => {
          if (!net.canReach(target, host)) return;
          timeout.cancelled = true;
          settle(() => resolve(reply));
        });
      });
    });
  }
}
