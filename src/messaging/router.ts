// The message router: takes stamped messages and hands each receiver its copy (the same object: local
// delivery neither serializes nor copies). `route` is synchronous and every mailbox is FIFO, which is what
// keeps order per (sender, receiver); host-made failures are routed inside the same call, so a client must
// start waiting (ClientInbox.expect) before the message is routed. The single-receiver path allocates
// nothing: no arrays, no closures, shared directory answers. A message whose `protocol` the conversation
// gate enforces is judged once, before any delivery, against its resolved receivers; every other message pays
// one field test for that.
import type { AgentDirectory } from './agent-directory.ts';
import type { DeadLetterReason, DeadLetterSink } from './dead-letter-sink.ts';
import type { DeliveryOutcome, LocalAgents, MessageSink } from './delivery.ts';
import type { AclMessage } from './message.ts';
import { CAPABILITY_PREFIX, CLIENT_PREFIX } from './message.ts';
import type { HostErrorCode } from './replies.ts';
import { failureReply, hostReply, mayAnswerWithFailure } from './replies.ts';
import type { RemoteAwait, RemoteAwaits } from './remote-awaits.ts';
import type {
  ClientReplies,
  ConversationGate,
  ProtocolRejection,
  RemoteRoute,
  RouterObserver,
  SystemAgentHandler,
} from './router-ports.ts';
import { describeError } from '../errors.ts';

export interface RouterOptions {
  directory: AgentDirectory;
  localAgents: LocalAgents;
  /** Replies to `client:<id>` receivers. */
  clients: ClientReplies;
  deadLetters: DeadLetterSink;
  /** Absent on a single node: an agent the directory places elsewhere is then unavailable. */
  remote?: RemoteRoute;
  observer?: RouterObserver;
  /** Interaction-protocol checks (a ConversationTracker); absent: no protocol is enforced. */
  conversations?: ConversationGate;
  /**
   * What local agents await from agents on other nodes (answered NODE_FAILED when such a node dies, see
   * failAwaitsOn); absent: nothing is recorded.
   */
  remoteAwaits?: RemoteAwaits;
}

const NO_OBSERVER: RouterObserver = { onRouted() {}, onDeadLetter() {} };

/** Up to this many named receivers are de-duplicated by scanning (no Set): cheaper than allocating one. */
const SMALL_LIST = 16;

function hasCapability(receivers: readonly string[]): boolean {
  for (let i = 0; i < receivers.length; i++) if (receivers[i].startsWith(CAPABILITY_PREFIX)) return true;
  return false;
}

function seenBefore(receivers: readonly string[], index: number): boolean {
  const receiver = receivers[index];
  for (let j = 0; j < index; j++) if (receivers[j] === receiver) return true;
  return false;
}

export class Router implements MessageSink {
  readonly #directory: AgentDirectory;
  readonly #local: LocalAgents;
  readonly #clients: ClientReplies;
  readonly #deadLetters: DeadLetterSink;
  readonly #observer: RouterObserver;
  #remote: RemoteRoute | undefined;
  readonly #conversations: ConversationGate | undefined;
  readonly #awaits: RemoteAwaits | undefined;
  readonly #systemAgents = new Map<string, SystemAgentHandler>();

  constructor(options: RouterOptions) {
    this.#directory = options.directory;
    this.#local = options.localAgents;
    this.#clients = options.clients;
    this.#deadLetters = options.deadLetters;
    this.#remote = options.remote;
    this.#observer = options.observer ?? NO_OBSERVER;
    this.#conversations = options.conversations;
    this.#awaits = options.remoteAwaits;
    this.#conversations?.bindHostRoute((message) => this.#routeUnchecked(message));
  }

  /** Routes messages for `name` (e.g. `df`, `ams`) to an in-process handler; system names shadow agents. */
  registerSystemAgent(name: string, handler: SystemAgentHandler): void {
    if (this.#systemAgents.has(name)) throw new Error(`system agent "${name}" is already registered`);
    this.#systemAgents.set(name, handler);
  }

  unregisterSystemAgent(name: string): boolean {
    return this.#systemAgents.delete(name);
  }

  isSystemAgent(name: string): boolean {
    return this.#systemAgents.has(name);
  }

  /** Plugs in (or removes) the hop to other nodes once the cluster layer is up. */
  setRemoteRoute(remote: RemoteRoute | undefined): void {
    this.#remote = remote;
  }

  /**
   * The receivers that will each be handed the message, duplicates removed, in the order written:
   * `capability:x` becomes every agent advertising x, or stays `capability:x` when none does (it then
   * answers AGENT_NOT_FOUND as its own receiver). A client waiting for answers expects one from each.
   */
  resolveReceivers(message: Pick<AclMessage, 'receiver'>): string[] {
    const written = message.receiver;
    // One named agent (almost every client send): no Set.
    if (typeof written === 'string' && !written.startsWith(CAPABILITY_PREFIX)) return [written];
    const seen = new Set<string>();
    if (typeof written === 'string') this.#resolveInto(written, seen);
    else for (const receiver of written) this.#resolveInto(receiver, seen);
    return [...seen];
  }

  route(message: AclMessage): void {
    const conversations = this.#conversations;
    if (conversations !== undefined && message.protocol !== undefined && conversations.enforces(message.protocol)) {
      this.#routeChecked(message, this.resolveReceivers(message), conversations);
    } else {
      this.#routeUnchecked(message);
    }
  }

  /**
   * A message another node routed to `receiver` here (an agent of this node, or a client waiting here). It
   * was judged by the protocols on the sending node: here it is only observed, so the conversation is known
   * when the receiver answers, and delivered to that one receiver.
   */
  deliverFromPeer(message: AclMessage, receiver: string): void {
    const conversations = this.#conversations;
    if (conversations !== undefined && message.protocol !== undefined && conversations.enforces(message.protocol)) {
      conversations.observe(message, [receiver]);
    }
    this.#deliverTo(message, receiver);
  }

  /**
   * A message handed to the hop to another node that did not arrive (the link failed before the peer
   * acknowledged it): dead-lettered, and its sender told, like any undeliverable message.
   */
  reportUndelivered(message: AclMessage, receiver: string, code: 'LINK_LOST' | 'NODE_UNREACHABLE' | 'WORKER_RESTARTED', text: string): void {
    this.#deadLetter(message, code, receiver);
    // The receiver's node was declared dead before its link gave the message up: NODE_FAILED answered it.
    if (this.#awaits?.undelivered(message, receiver)) return;
    this.#answerWithFailure(message, receiver, code, text, { receiver });
  }

  /**
   * `node` is gone: each message a local agent sent to an agent on another node and still awaits an answer to
   * (see RemoteAwaits) that `matches` picks as lost with `node` is answered `failure` NODE_FAILED from that
   * agent, in its conversation. Returns how many were answered.
   */
  failAwaitsOn(node: string, text: (entry: RemoteAwait) => string, matches: (entry: RemoteAwait) => boolean): number {
    const awaits = this.#awaits;
    if (awaits === undefined) return 0;
    const taken = awaits.take(matches);
    let answered = 0;
    for (const entry of taken) {
      // One sender's broken delivery must not cost the others their answer (the entries are taken already).
      try {
        this.#answerWithFailure(entry.message, entry.receiver, 'NODE_FAILED', text(entry), { receiver: entry.receiver, node });
        answered++;
      } catch {}
    }
    return answered;
  }

  /**
   * A local delivery counted queued that the agent's worker thread then refused (its mailbox filled, the agent
   * stopped meanwhile): dead-lettered and answered exactly as a refusal at once would have been.
   */
  reportRefused(message: AclMessage, receiver: string, outcome: DeliveryOutcome): void {
    this.#undeliverable(message, receiver, outcome);
  }

  /** Routes to receivers already resolved by `resolveReceivers` (so a client's wait and the routing agree). */
  routeResolved(message: AclMessage, receivers: readonly string[]): void {
    const conversations = this.#conversations;
    if (conversations !== undefined && message.protocol !== undefined && conversations.enforces(message.protocol)) {
      this.#routeChecked(message, receivers, conversations);
    } else {
      for (let i = 0; i < receivers.length; i++) this.#deliverTo(message, receivers[i]);
    }
  }

  #routeChecked(message: AclMessage, receivers: readonly string[], conversations: ConversationGate): void {
    const rejection = conversations.check(message, receivers);
    if (rejection === undefined) {
      for (let i = 0; i < receivers.length; i++) this.#deliverTo(message, receivers[i]);
    } else {
      for (let i = 0; i < receivers.length; i++) this.#refuse(message, receivers[i], rejection);
    }
  }

  /**
   * Not delivered: dead-lettered, and the sender told by each receiver it was meant for, so per-receiver
   * answer counting ends. Never answers a failure or not-understood (two broken parties must not ping-pong).
   */
  #refuse(message: AclMessage, receiver: string, rejection: ProtocolRejection): void {
    this.#deadLetter(message, rejection.code, receiver);
    if (!mayAnswerWithFailure(message)) return;
    const details = { ...rejection.details, receiver };
    this.#routeUnchecked(hostReply(message, receiver, rejection.performative, rejection.code, rejection.reason, details));
  }

  /** Host-made messages (failures, TIMEOUTs, refusals) take this path: they are never judged by the protocols. */
  #routeUnchecked(message: AclMessage): void {
    const written = message.receiver;
    if (typeof written === 'string') {
      if (written.startsWith(CAPABILITY_PREFIX)) this.#routeToCapability(message, written);
      else this.#deliverTo(message, written);
    } else if (written.length <= SMALL_LIST && !hasCapability(written)) {
      for (let i = 0; i < written.length; i++) if (!seenBefore(written, i)) this.#deliverTo(message, written[i]);
    } else {
      this.routeResolved(message, this.resolveReceivers(message));
    }
  }

  #resolveInto(receiver: string, seen: Set<string>): void {
    if (!receiver.startsWith(CAPABILITY_PREFIX)) {
      seen.add(receiver);
      return;
    }
    const agents = this.#directory.byCapability(receiver.slice(CAPABILITY_PREFIX.length));
    if (agents.length === 0) seen.add(receiver);
    else for (const agent of agents) seen.add(agent);
  }

  #routeToCapability(message: AclMessage, receiver: string): void {
    const agents = this.#directory.byCapability(receiver.slice(CAPABILITY_PREFIX.length));
    if (agents.length === 0) this.#deliverTo(message, receiver);
    else for (let i = 0; i < agents.length; i++) this.#deliverTo(message, agents[i]);
  }

  #deliverTo(message: AclMessage, receiver: string): void {
    if (receiver.startsWith(CLIENT_PREFIX)) {
      this.#deliverToClient(message, receiver);
      return;
    }
    // A reply to what a local agent awaits from another node ends that wait, whatever becomes of the reply.
    const awaits = this.#awaits;
    if (awaits !== undefined && message.in_reply_to !== undefined && awaits.size > 0) awaits.settle(message, receiver);
    let outcome: DeliveryOutcome;
    const system = this.#systemAgents.get(receiver);
    if (system !== undefined) {
      if (!this.#callSystemAgent(system, message, receiver)) return;
      outcome = 'queued';
    } else if (receiver.startsWith(CAPABILITY_PREFIX)) {
      outcome = 'not_found'; // reached only when no agent advertises the capability
    } else {
      const location = this.#directory.lookup(receiver);
      if (location === undefined) {
        // The directory may lag a deployment by a moment; an agent already running here still gets it.
        outcome = this.#local.has(receiver) ? this.#local.deliver(message, receiver) : 'not_found';
      } else if (location.kind === 'local') {
        outcome = this.#local.deliver(message, receiver);
      } else {
        const remote = this.#remote;
        outcome = remote === undefined ? 'node_unreachable' : remote.send(location.node, message, receiver);
        if (outcome === 'queued' && awaits !== undefined && this.#local.has(message.sender)) awaits.record(message, receiver, location.node);
      }
    }
    this.#observer.onRouted(message, receiver, outcome);
    if (outcome !== 'queued') this.#undeliverable(message, receiver, outcome);
  }

  /** A reply for an API client; nobody waiting means it arrived too late, which is not the agent's fault. */
  #deliverToClient(message: AclMessage, receiver: string): void {
    const taken = this.#clients.deliver(message, receiver);
    this.#observer.onRouted(message, receiver, taken ? 'queued' : 'not_found');
    if (!taken) this.#deadLetter(message, 'NO_CLIENT_WAITING', receiver);
  }

  #callSystemAgent(handler: SystemAgentHandler, message: AclMessage, receiver: string): boolean {
    try {
      handler(message);
      return true;
    } catch (error) {
      this.#observer.onRouted(message, receiver, 'unavailable');
      this.#deadLetter(message, 'AGENT_ERROR', receiver);
      const text = describeError(error);
      this.#answerWithFailure(message, receiver, 'AGENT_ERROR', `system agent "${receiver}" failed: ${text}`, {
        receiver,
      });
      return false;
    }
  }

  #undeliverable(message: AclMessage, receiver: string, outcome: DeliveryOutcome): void {
    switch (outcome) {
      case 'not_found':
        this.#deadLetter(message, 'AGENT_NOT_FOUND', receiver);
        if (receiver.startsWith(CAPABILITY_PREFIX)) {
          const capability = receiver.slice(CAPABILITY_PREFIX.length);
          this.#answerWithFailure(message, receiver, 'AGENT_NOT_FOUND', `no agent advertises capability "${capability}"`, {
            capability,
          });
        } else {
          this.#answerWithFailure(message, receiver, 'AGENT_NOT_FOUND', `agent "${receiver}" not found`, { receiver });
        }
        return;
      case 'mailbox_full':
        this.#deadLetter(message, 'MAILBOX_FULL', receiver);
        this.#answerWithFailure(message, receiver, 'MAILBOX_FULL', `mailbox of agent "${receiver}" is full`, { receiver });
        return;
      case 'unavailable':
        this.#deadLetter(message, 'AGENT_UNAVAILABLE', receiver);
        this.#answerWithFailure(message, receiver, 'AGENT_UNAVAILABLE', `agent "${receiver}" is not available`, {
          receiver,
        });
        return;
      case 'node_unreachable':
        this.#deadLetter(message, 'NODE_UNREACHABLE', receiver);
        this.#answerWithFailure(message, receiver, 'NODE_UNREACHABLE', `the node of agent "${receiver}" cannot be reached`, { receiver });
        return;
      case 'link_full':
        this.#deadLetter(message, 'LINK_FULL', receiver);
        this.#answerWithFailure(message, receiver, 'LINK_FULL', `the link to the node of agent "${receiver}" is full; try again later`, {
          receiver,
        });
        return;
      case 'queued':
        return;
    }
  }

  #deadLetter(message: AclMessage, reason: DeadLetterReason | ProtocolRejection['code'], receiver: string): void {
    this.#deadLetters.record(message, reason, receiver);
    this.#observer.onDeadLetter(message, reason, receiver);
  }

  /** The failure names `receiver` as its sender so per-receiver answer counting sees it; never answers a failure. */
  #answerWithFailure(
    message: AclMessage,
    receiver: string,
    code: HostErrorCode,
    text: string,
    details: Record<string, unknown>,
  ): void {
    if (!mayAnswerWithFailure(message)) return;
    const failure = failureReply(message, receiver, code, text, details);
    // The receiver's part ends with this failure (no TIMEOUT will follow for it); the failure is the host's, not judged.
    if (failure.protocol !== undefined) this.#conversations?.observe(failure);
    this.#routeUnchecked(failure);
  }
}
