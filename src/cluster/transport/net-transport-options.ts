// NetTransport's settings, each default with its reason (memberlist config.go DefaultLANConfig).
import { networkInterfaces } from 'node:os';
import type { PeerAddress } from '../membership/transport.ts';
import type { Keyring } from '../wire/keyring.ts';
import type { EncryptionVersion } from '../wire/security.ts';

export interface NetTransportOptions {
  /** Address to listen on, UDP and TCP alike. */
  bindHost?: string;
  /** Gossip port, UDP and TCP alike; 0 picks a free one (tests). */
  bindPort?: number;
  /** Where peers reach us (what goes into alive messages); by default the bind address, or the first
   * non-internal IPv4 address when bound to every interface. */
  advertise?: PeerAddress;
  /** Gossip encryption; when set every output is encrypted with the primary key and any plaintext input
   * is refused (memberlist GossipVerifyIncoming + GossipVerifyOutgoing). */
  keyring?: Keyring;
  encryptionVersion?: EncryptionVersion;
  /** LZW-compress packets (when smaller) and streams. Input is always decompressed. */
  compress?: boolean;
  /** Prefix packets with a CRC-32; a function decides per peer (memberlist sends it to protocol >= 5). */
  crc?: boolean | ((to: PeerAddress) => boolean);
  /** Deadline of a whole incoming stream exchange. */
  tcpTimeoutMs?: number;
  /** Largest datagram we send before encryption/CRC overhead. */
  udpBufferBytes?: number;
  /** Told about failures that are otherwise only counted (bind errors still reject listen()). */
  onError?: (error: Error) => void;
}

export const NET_TRANSPORT_DEFAULTS = {
  /** memberlist's default: every interface. */
  bindHost: '0.0.0.0',
  /** memberlist's (and Serf's) gossip port. */
  bindPort: 7946,
  /** memberlist speaks encryption version 1 from protocol 2 on (and we speak protocol 2). */
  encryptionVersion: 1 as EncryptionVersion,
  /** Off: gossip packets are small and CPU is shared with agents; every peer decodes either way. */
  compress: false,
  /** Off: memberlist only adds it when it knows the peer understands protocol 5, and a protocol-2..4
   * memberlist would drop a packet that starts with type 12. Serf 0.8+ accepts it (tested). */
  crc: false,
  /** memberlist LAN TCPTimeout: 10 s. */
  tcpTimeoutMs: 10_000,
  /** memberlist UDPBufferSize: 1400 fits a 1500-byte Ethernet MTU with IP/UDP headers to spare. */
  udpBufferBytes: 1400,
} as const;

export function defaultAdvertiseHost(bindHost: string): string {
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
