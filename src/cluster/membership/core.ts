// The state every part of the SWIM core shares (memberlist's Memberlist struct), and the two ways out:
// a packet to one peer with gossip piggybacked, and a broadcast queued for gossip.
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { Clock, MembershipLogger, Random } from './clock.ts';
import type { MembershipConfig } from './config.ts';
import type { Delegate } from './delegate.ts';
import type { EventDelegate } from './event-delegate.ts';
import type { Member } from './member.ts';
import { isLive, type NodeState, type PacketMessage } from './messages.ts';
import { NodeTable, toMember, type NodeRecord } from './node-table.ts';
import type { Suspicion } from './suspicion.ts';
import type { MessageTransport, PeerAddress } from './transport.ts';
import { AgeOrderedMap } from '../../messaging/age-ordered-map.ts';
import { describeError } from '../../errors.ts';

/** memberlist's compound framing: 2 bytes of header, 2 bytes of length per part. */
export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_OVERHEAD = 2;

const WARN_INTERVAL_MS = 60_000;
const WARN_KEYS = 1024;

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
  /**
   * Members declared dead (not left), kept after reaping so a healed partition can be rejoined; at most
   * config.maxMembers, oldest forgotten first (noteFailed).
   */
  readonly failed = new AgeOrderedMap<string, { address: PeerAddress; since: number }>();
  /** Members alive or suspect, kept by stateChanged: the layer above reads it on every change. */
  liveCount = 0;
  /** Alive news about new names ignored because the table held config.maxMembers. */
  membersRefused = 0;
  private incarnation = 0;
  private sequence = 0;
  /** Handlers of the layer above that threw (caught by notify). */
  handlerErrors = 0;
  /** When each kind of peer-provoked warning was last logged, and how many were held back since. */
  private readonly warned = new AgeOrderedMap<string, { at: number; held: number }>();
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
    this.queue = new BroadcastQueue(parts.config.retransmitMult, () => this.table.size, {
      maxItems: parts.config.maxQueuedBroadcasts,
      maxItemBytes: parts.transport.maxPacketBytes - COMPOUND_HEADER_OVERHEAD - COMPOUND_OVERHEAD,
      onDropped: (reason, b) =>
        this.warnLimited(
          `broadcast-${reason}`,
          reason === 'too-large'
            ? `membership: not gossiping a ${b.message.type} message of ${b.size} bytes: no packet carries it`
            : `membership: broadcast queue full (${parts.config.maxQueuedBroadcasts} messages): dropped the most transmitted`,
        ),
    });
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
      this.handlerErrors += 1;
      this.warnLimited(`notify:${what}`, `membership: ${what} handler threw: ${describeError(err)}`);
    }
  }

  /**
   * A warning a peer can provoke at will (one per packet): logged at most once per key per minute, as
   * memberlist's [ERR] lines should have been, with the count held back since. Keys are few and fixed
   * (a kind, or a kind and a source host); at most WARN_KEYS are remembered.
   */
  warnLimited(key: string, message: string): void {
    const now = this.clock.now();
    const seen = this.warned.get(key);
    if (seen && now - seen.at < WARN_INTERVAL_MS) {
      seen.held += 1;
      return;
    }
    this.warned.set(key, { at: now, held: 0 });
    if (this.warned.size > WARN_KEYS) this.warned.shift();
    this.logger.warn(seen?.held ? `${message} (${seen.held} more like it since the last report)` : message);
  }

  stateChanged(node: NodeRecord, previous: NodeState | undefined): void {
    const wasLive = previous !== undefined && isLive(previous);
    if (isLive(node.state) !== wasLive) this.liveCount += wasLive ? -1 : 1;
    const member: Member = toMember(node);
    this.notify('onStateChange', () => this.events.onStateChange?.(member, previous));
  }

  /** Remembers a member declared dead for reconnecting, the oldest forgotten past config.maxMembers. */
  noteFailed(node: NodeRecord): void {
    // An AgeOrderedMap: trimming a plain Map's oldest is O(n) once many entries were deleted (age-ordered-map.ts).
    this.failed.set(node.name, { address: this.addressOf(node), since: node.stateChange });
    if (this.failed.size > this.config.maxMembers) this.failed.shift();
  }

  addressOf(node: NodeRecord): PeerAddress {
    return { host: node.host, port: node.port };
  }
}
