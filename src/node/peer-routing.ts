// The router's hop to other nodes, over the routing links: a message for an agent on node N crosses the
// link to N with the one receiver it is for; a message arriving from a peer is checked (its sender must be
// one of that peer's agents or clients, or a failure the peer's host wrote; else it is dead-lettered here)
// and handed to its receiver here.
// Replies for an API client go back to the node the client wrote from (ClientOrigins). A client's message
// this node passes on to another (a draining node forwarding to an agent's new owner) names that node as its
// origin, so the owner replies straight to the client's node: a reply relayed back through a node that is
// about to stop would be lost with it, and the client would wait in silence. Whatever the link
// could not deliver comes back as undelivered and its senders get `failure` LINK_LOST: never silence.
import type { DeadLetterSink } from '../messaging/dead-letter-sink.ts';
import type { DeliveryOutcome } from '../messaging/delivery.ts';
import type { ClientOrigins } from '../messaging/client-origins.ts';
import { CLIENT_PREFIX, isTraceContext, PERFORMATIVES, type AclMessage } from '../messaging/message.ts';
import type { RemoteRoute } from '../messaging/router-ports.ts';
import type { Router } from '../messaging/router.ts';
import type { Logger } from '../observability/logger.ts';
import { describeError } from '../errors.ts';

/** What the routing links offer the node (src/cluster/routing). */
export interface PeerLinks {
  /** `origin`: the node where the API client that sent `message` waits, when not this node. */
  sendMessage(node: string, message: AclMessage, receiver: string, origin?: string): 'queued' | 'full' | 'unreachable';
  onMessage(handler: (fromNode: string, message: AclMessage, receiver: string, origin?: string) => void): void;
  onUndelivered(handler: (node: string, items: readonly { message: AclMessage; receiver: string }[], reason: string) => void): void;
}

export interface PeerRoutingOptions {
  nodeId: string;
  links: PeerLinks;
  router: Router;
  origins: ClientOrigins;
  deadLetters: DeadLetterSink;
  /** The node that runs `name` cluster-wide (the registry), or undefined. */
  nodeOf(name: string): string | undefined;
  /**
   * True when `fromNode` handed `receiver` to this node (a drain): it forwards that agent's messages with
   * the senders it received them from, so their sender is not checked against it.
   */
  forwardsFor?(fromNode: string, receiver: string): boolean;
  /**
   * True when `node` is draining (its gossip tag): during a hand-over an agent briefly answers from both its
   * old node and its new one, and the old node relays replies for agents it no longer owns.
   */
  isDraining?(node: string): boolean;
  /**
   * True while `client` waits here for replies in `conversationId`. Its request may have been forwarded to an
   * agent's new owner that answers straight here before this node's registry has heard of the move, so a
   * reply for a waiting client is taken from any member.
   */
  clientWaits?(client: string, conversationId: string): boolean;
  logger: Logger;
}

const PERFORMATIVE_SET: ReadonlySet<string> = new Set(PERFORMATIVES);
/** A refused peer message is logged at most once per peer per this interval. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class PeerRouting implements RemoteRoute {
  readonly #o: PeerRoutingOptions;
  readonly #lastRefusalLog = new Map<string, number>();
  /** Messages from peers refused (malformed, or a sender the peer does not own), by peer. */
  readonly refused = new Map<string, number>();

  constructor(options: PeerRoutingOptions) {
    this.#o = options;
    options.links.onMessage((from, message, receiver, origin) => this.#arrived(from, message, receiver, origin));
    options.links.onUndelivered((node, items, reason) => {
      for (const { message, receiver } of items) {
        options.router.reportUndelivered(message, receiver, 'LINK_LOST', `the link to node "${node}" failed before it confirmed the message (${reason})`);
      }
    });
  }

  send(node: string, message: AclMessage, receiver: string): DeliveryOutcome {
    const origin = message.sender.startsWith(CLIENT_PREFIX) ? this.#clientOrigin(message, node) : undefined;
    const outcome = this.#o.links.sendMessage(node, message, receiver, origin);
    return outcome === 'queued' ? 'queued' : outcome === 'full' ? 'link_full' : 'node_unreachable';
  }

  /** A reply for a client that wrote from another node goes back there; false when none is known. */
  forwardClientReply(reply: AclMessage, client: string): boolean {
    const node = this.#o.origins.nodeOf(client, reply.conversation_id);
    if (node === undefined || node === this.#o.nodeId) return false;
    return this.#o.links.sendMessage(node, reply, client) === 'queued';
  }

  /** Where the client that sent `message` waits, when that is neither this node nor `to`. */
  #clientOrigin(message: AclMessage, to: string): string | undefined {
    const node = this.#o.origins.nodeOf(message.sender, message.conversation_id);
    return node === undefined || node === this.#o.nodeId || node === to ? undefined : node;
  }

  #arrived(from: string, message: AclMessage, receiver: string, origin?: string): void {
    try {
      const malformed = wellFormed(message, receiver);
      if (malformed !== undefined) {
        this.#refuseMalformed(from, message, receiver, malformed);
        return;
      }
      const notTheirs = this.#o.forwardsFor?.(from, receiver) || this.#awaited(message, receiver) ? undefined : this.#senderProblem(from, message);
      if (notTheirs !== undefined) {
        this.#refuseSender(from, message, receiver, notTheirs);
        return;
      }
      // The client waits where the peer says it wrote from (a forward), else on the peer itself.
      if (message.sender.startsWith(CLIENT_PREFIX)) this.#o.origins.remember(message.sender, message.conversation_id, origin ?? from);
      this.#o.router.deliverFromPeer(message, receiver);
    } catch (error) {
      // Its sender waits somewhere: kept as a dead letter, as every message this node could not deliver.
      this.#deadLetter(message, 'HANDLING_FAILED', receiver);
      this.#refuse(from, `handling failed: ${describeError(error)}`);
    }
  }

  #awaited(message: AclMessage, receiver: string): boolean {
    return receiver.startsWith(CLIENT_PREFIX) && this.#o.clientWaits?.(receiver, message.conversation_id) === true;
  }

  /** A peer speaks for its own agents and clients; a failure its host wrote may name any receiver it was for. */
  #senderProblem(from: string, message: AclMessage): string | undefined {
    const sender = message.sender;
    if (sender.startsWith(CLIENT_PREFIX)) return undefined;
    const owner = this.#o.nodeOf(sender);
    if (owner === from) return undefined;
    // A hand-over in progress: the old owner (draining) still speaks for the agent, or relays its replies,
    // and the new owner may speak before this node's registry has heard of the move.
    if (this.#o.isDraining && (this.#o.isDraining(from) || (owner !== undefined && this.#o.isDraining(owner)))) return undefined;
    // This node adopted the sender from `from` a moment ago (faster than `from`'s draining tag spreads): the
    // copy there still answers what it had queued.
    if (this.#o.forwardsFor?.(from, sender)) return undefined;
    const content = message.content as { error?: unknown } | undefined;
    const hostReply = (message.performative === 'failure' || message.performative === 'not-understood') && typeof content === 'object' && content !== null && content.error !== undefined;
    if (hostReply) return undefined;
    return `sender "${sender.slice(0, 80)}" is not an agent of node "${from}"`;
  }

  /**
   * Kept as a dead letter here. No failure goes back: it would be addressed to the sender the peer claimed,
   * an agent of another node that sent nothing, and reach it through that node.
   */
  #refuseSender(from: string, message: AclMessage, receiver: string, why: string): void {
    this.#deadLetter(message, 'SENDER_REFUSED', receiver);
    this.#refuse(from, why);
  }

  /**
   * Kept as a dead letter here, so it does not vanish (its sender waits somewhere). No failure goes back: what
   * is wrong may be the very fields a failure would be addressed by. The store takes objects only, so anything
   * else is kept as the content of one.
   */
  #refuseMalformed(from: string, message: unknown, receiver: unknown, why: string): void {
    this.#deadLetter(message, 'INVALID_MESSAGE', receiver);
    this.#refuse(from, why);
  }

  /** The store takes objects only; a dead letter that cannot even be kept is counted by #refuse. */
  #deadLetter(message: unknown, reason: string, receiver: unknown): void {
    const kept = typeof message === 'object' && message !== null ? message : { content: message };
    try {
      this.#o.deadLetters.record(kept as AclMessage, reason, typeof receiver === 'string' ? receiver : undefined);
    } catch {
      // Nothing more to do for it: the refusal below is logged and counted.
    }
  }

  #refuse(from: string, why: string): void {
    this.refused.set(from, (this.refused.get(from) ?? 0) + 1);
    const now = Date.now();
    const last = this.#lastRefusalLog.get(from) ?? 0;
    if (now - last < REFUSAL_LOG_INTERVAL_MS) return;
    this.#lastRefusalLog.set(from, now);
    if (this.#lastRefusalLog.size > 1024) this.#lastRefusalLog.clear();
    this.#o.logger.warn({ peer: from, refused: this.refused.get(from), why }, 'refused a message from a peer (logged once a minute per peer)');
  }
}

/** The fields the router relies on, checked cheaply: the peer is authenticated, but not trusted to be right. */
function wellFormed(message: AclMessage, receiver: string): string | undefined {
  if (typeof message !== 'object' || message === null) return 'not a message';
  if (!PERFORMATIVE_SET.has(message.performative)) return 'unknown performative';
  if (typeof message.sender !== 'string' || message.sender.length === 0 || message.sender.length > 256) return 'bad sender';
  if (typeof message.conversation_id !== 'string' || typeof message.message_id !== 'string') return 'missing ids';
  if (typeof receiver !== 'string' || receiver.length === 0 || receiver.length > 256) return 'bad receiver';
  const written = message.receiver;
  if (typeof written !== 'string' && !Array.isArray(written)) return 'bad receiver list';
  if (message.protocol !== undefined && typeof message.protocol !== 'string') return 'bad protocol';
  if (message.trace_context !== undefined && !isTraceContext(message.trace_context)) return 'bad trace_context';
  return undefined;
}
