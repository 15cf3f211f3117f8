// What the SWIM core needs from a network. The real implementation (UDP + TCP, memberlist's wire format,
// CRC, compression, keyring encryption) and the simulator (virtual time, seeded loss and latency) both
// implement it, so the same protocol code runs in both.
import type { PacketMessage, PushPull } from './messages.ts';

export interface PeerAddress {
  host: string;
  port: number;
}

export interface MessageTransport {
  /** Where peers reach this node (what goes into alive messages). */
  readonly localAddress: PeerAddress;
  /** Largest encoded packet the transport sends in one datagram (memberlist: 1400 bytes UDP). */
  readonly maxPacketBytes: number;
  /** Encoded size of one message, so the core can fill a packet with piggybacked gossip. */
  messageSize(message: PacketMessage): number;

  /** Best effort, one datagram; several messages travel as one compound message. */
  sendPackets(to: PeerAddress, messages: PacketMessage[]): void;
  onPackets(handler: (from: PeerAddress, messages: PacketMessage[]) => void): void;

  /** Reliable exchange over a stream (TCP): sends `local`, resolves with the peer's state. */
  pushPull(to: PeerAddress, local: PushPull, timeoutMs: number): Promise<PushPull>;
  /** Answers a peer's push-pull: receives its state, returns ours for the reply. */
  onPushPull(handler: (from: PeerAddress, remote: PushPull) => PushPull): void;

  /** A ping over a stream (memberlist's TCP fallback probe); resolves true when acked in time. */
  streamPing(to: PeerAddress, ping: PacketMessage, timeoutMs: number): Promise<boolean>;
  /** A message that came over a stream (a ping to ack, a reliable user message). */
  onStreamMessage(handler: (from: PeerAddress, message: PacketMessage) => PacketMessage | undefined): void;

  close(): Promise<void>;
}
