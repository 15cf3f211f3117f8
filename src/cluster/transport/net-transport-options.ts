// NetTransport's settings, each default with its reason (memberlist config.go DefaultLANConfig).
import { networkInterfaces } from 'node:os';
import type { PeerAddress } from '../membership/transport.ts';
import type { Keyring } from '../wire/keyring.ts';
import { DEFAULT_MAX_PUSH_PULL_NODES } from '../wire/pushpull.ts';
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
  /** Incoming TCP connections open at once (gossip streams, and whatever else arrives on the port). */
  maxIncomingStreams?: number;
  /** Largest message one incoming (or reply) stream may carry, as received. */
  maxStreamBytes?: number;
  /** Bytes all incoming streams may buffer together beyond STREAM_FREE_BYTES each. */
  streamBudgetBytes?: number;
  /** An incoming stream must send its first bytes (the message header) within this. */
  streamHeaderTimeoutMs?: number;
  /** Node states one incoming push-pull (or reply to ours) may carry; more is refused from its header
   * (a node passes gossip.max_members). */
  maxPushPullNodes?: number;
  /** Told about failures that are otherwise only counted (bind errors still reject listen()). */
  onError?: (error: Error) => void;
  /** Told, at most once per source address per minute, that input from it was refused and why. */
  onRefused?: (refusal: InputRefusal) => void;
}

/** Input a peer sent that was dropped: counted in stats always, reported through onRefused rate-limited. */
export interface InputRefusal {
  /** HOST:PORT of the sender (the port of a TCP stream is ephemeral). */
  source: string;
  transport: 'udp' | 'tcp';
  /** The stats counter that counted it (e.g. decryptFailed, unencrypted, streamErrors, refusedStreams). */
  cause: string;
  detail?: string;
  /** Refusals from the same source not reported since its last report. */
  suppressed: number;
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
  /**
   * A node gets a push-pull from each peer every push_pull_interval (15 s, scaled up past 32 members), each
   * lasting milliseconds, plus joins: even 100 nodes rarely hold 10 streams at once. 64 leaves room for a
   * burst of joins while 64 idle sockets cost ~nothing. memberlist has no cap (issue 10, finding 2).
   */
  maxIncomingStreams: 64,
  /**
   * memberlist refuses more than 20 MiB. Push-pull user state will carry the agent registry: ~150 bytes per
   * agent record, so 50,000 agents are ~7.5 MiB; 16 MiB leaves twice that room.
   */
  maxStreamBytes: 16 * 1024 * 1024,
  /**
   * Four full-size push-pulls at once; beyond that a large stream is refused (the peer retries at its next
   * push-pull) rather than letting 40 hostile connections hold 40 × 16 MiB. Small streams do not count.
   */
  streamBudgetBytes: 64 * 1024 * 1024,
  /** A peer writes its whole message at once; 2 s covers a loaded peer and frees a slowloris socket 5× sooner. */
  streamHeaderTimeoutMs: 2000,
  /** memberlist has no cap: gossip.max_members' default, since a peer never lists more members than it holds. */
  maxPushPullNodes: DEFAULT_MAX_PUSH_PULL_NODES,
  /** One report per source per minute: the operator learns who sends garbage, a flood cannot fill the log. */
  refusalLogIntervalMs: 60_000,
} as const;

/**
 * What each incoming stream may buffer without touching the shared budget: every ping, ack, user message
 * and a push-pull of ~500 members fits, so legitimate small traffic passes while the budget is spent.
 * The connection cap bounds the sum (64 × 64 KiB = 4 MiB).
 */
export const STREAM_FREE_BYTES = 64 * 1024;

export function defaultAdvertiseHost(bindHost: string): string {
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
