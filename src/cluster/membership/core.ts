// The state every part of the SWIM core shares (memberlist's Memberlist struct), and the two ways out:
// a packet to one peer with gossip piggybacked, and a broadcast queued for gossip.
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { Clock, MembershipLogger, Random } from './clock.ts';
import type { MembershipConfig } from './config.ts';
import type { Delegate } from './delegate.ts';
import type { EventDelegate } from './event-delegate.ts';
import type { Member } from './member.ts';
import type { NodeState, PacketMessage } from './messages.ts';
import { NodeTable, toMember, type NodeRecord } from './node-table.ts';
import type { Suspicion } from './suspicion.ts';
import type { MessageTransport, PeerAddress } from './transport.ts';

/** memberlist's compound framing: 2 bytes of header, 2 bytes of length per part. */
export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_OVERHEAD = 2;

export interface AckHandler {
  onAck: () => void;
  onNack?: () => void;
  timer: unknown;
}

export interface CoreParts {
  config: MembershipConfig;
  name: string;
  transport: MessageTransport;
  clock: Clock;
  random: Random;
  logger: MembershipLogger;
  events: EventDelegate;
  delegate: Delegate;
}

export class Core {
  readonly config: MembershipConfig;
  readonly name: string;
  readonly transport: MessageTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: MembershipLogger;
  readonly events: EventDelegate;
  readonly delegate: Delegate;
  readonly table: NodeTable;
  readonly queue: BroadcastQueue;
  readonly awareness: Awareness;
  /** Lifeguard suspicion timers by node name; present only while the node is suspect. */
  readonly suspicions = new Map<string, Suspicion>();
  readonly ackHandlers = new Map<number, AckHandler>();
  /** Members declared dead (not left), kept after reaping so a healed partition can be rejoined. */
  readonly failed = new Map<string, { address: PeerAddress; since: number }>();
  private incarnation = 0;
  private sequence = 0;
  /** Set by leave(): we no longer refute our own death and ignore alive messages about us. */
  left = false;
  stopped = false;

  constructor(parts: CoreParts) {
    this.config = parts.config;
    this.name = parts.name;
    this.transport = parts.transport;
    this.clock = parts.clock;
    this.random = parts.random;
    this.logger = parts.logger;
    this.events = parts.events;
    this.delegate = parts.delegate;
    this.table = new NodeTable(parts.random);
    this.queue = new BroadcastQueue(parts.config.retransmitMult, () => this.table.size);
    this.awareness = new Awareness(parts.config.lifeguard.localHealthAwareness ? parts.config.awarenessMaxMultiplier : 1);
  }

  nextSeqNo(): number {
    this.sequence = (this.sequence + 1) >>> 0;
    return this.sequence;
  }

  nextIncarnation(): number {
    this.incarnation = (this.incarnation + 1) >>> 0;
    return this.incarnation;
  }

  skipIncarnation(offset: number): number {
    this.incarnation = (this.incarnation + offset) >>> 0;
    return this.incarnation;
  }

  self(): NodeRecord | undefined {
    return this.table.get(this.name);
  }

  /** Queues a broadcast; one about a node replaces the queued one about the same node. */
  broadcast(node: string | undefined, message: PacketMessage, onFinished?: () => void): void {
    this.queue.queue({ message, size: this.transport.messageSize(message), name: node, onFinished });
  }

  /** Sends one message to a peer with as much pending gossip piggybacked as the packet holds. */
  send(to: PeerAddress, message: PacketMessage, alsoSend?: PacketMessage): void {
    if (this.stopped) return;
    const messages = alsoSend ? [message, alsoSend] : [message];
    let used = COMPOUND_HEADER_OVERHEAD;
    for (const m of messages) used += COMPOUND_OVERHEAD + this.transport.messageSize(m);
    const extra = this.queue.take(COMPOUND_OVERHEAD, this.transport.maxPacketBytes - used);
    for (const m of extra) messages.push(m);
    this.transport.sendPackets(to, messages);
  }

  /** Calls a handler of the layer above; its failure must not break the protocol. */
  notify(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger.warn(`membership: ${what} handler threw: ${(err as Error).message}`);
    }
  }

  stateChanged(node: NodeRecord, previous: NodeState | undefined): void {
    const member: Member = toMember(node);
    this.notify('onStateChange', () => this.events.onStateChange?.(member, previous));
  }

  addressOf(node: NodeRecord): PeerAddress {
    return { host: node.host, port: node.port };
  }
}
