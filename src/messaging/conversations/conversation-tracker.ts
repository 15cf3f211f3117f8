// Tracks every conversation whose `protocol` the router knows and judges each of its messages against the
// protocol's state machine before delivery (messages.md, "Interaction protocols the router knows").
// Conversations are keyed by conversation_id, bounded in number (ended ones forgotten first, then the least
// recently active) and forgotten after idleMs without activity, or endedGraceMs after they ended. Deadlines (`reply_by`) are enforced twice over: a reply checked
// after its deadline is refused with DEADLINE_PASSED, and when the deadline passes the initiator gets one
// TIMEOUT failure per silent participant, from a timer or, if a message of the conversation comes first,
// right before that message is judged, so the outcome never depends on timer lateness. A conversation evicted
// for room ends its participants' debts too: the initiator gets one failure per answer still owed, and so does
// one forgotten idle (TIMEOUT, reason "idle"; from the initiator's node). One initiator holds at most a share of
// either bound in conversations still going on (CONVERSATION_DEFAULTS.initiatorShare): an opening past it is
// refused QUOTA_EXCEEDED, so one sender's flood cannot evict everyone else's conversations.
// Clock and timers are injected; nothing here does I/O.
import { randomUUID } from 'node:crypto';
import type { SetTimer } from '../client-inbox.ts';
import type { AclMessage } from '../message.ts';
import { receiversOf, replyKeyOf } from '../message.ts';
import { KNOWN_PROTOCOLS } from '../protocols/known-protocols.ts';
import type { ProtocolMachine } from '../protocols/protocol-machine.ts';
import { TIMED_OUT } from '../protocols/protocol-machine.ts';
import type { ConversationGate, ProtocolRejection } from '../router-ports.ts';
import { ActivityList } from './activity-list.ts';
import { Conversation } from './conversation.ts';
import { EndedGrace } from './ended-grace.ts';
import type { Participant } from './conversation.ts';
import { CONVERSATION_DEFAULTS, MAX_TIMER_MS } from './conversation-defaults.ts';
import type { ConversationChange, ConversationObserver, ConversationStateView } from './conversation-events.ts';
import { deadlineOf, deadlinePassed, initiatorQuotaExceeded, violation } from './rejections.ts';
import { evictionFailure, idleFailure, timeoutFailure } from './participant-failures.ts';

export interface ConversationTrackerOptions {
  /** Epoch milliseconds (reply_by is compared with it). */
  now?: () => number;
  setTimer?: SetTimer;
  maxConversations?: number;
  /** Participants across all conversations (a large cfp weighs more than a request). */
  maxParticipants?: number;
  /** Conversations still going on that one initiator may hold; maxConversations / initiatorShare by default. */
  maxPerInitiator?: number;
  /** Their participants; maxParticipants / initiatorShare by default. */
  maxParticipantsPerInitiator?: number;
  idleMs?: number;
  sweepIntervalMs?: number;
  /** How long an ended conversation is still held, so a late or duplicate message is refused as "has ended". */
  endedGraceMs?: number;
  observer?: ConversationObserver;
  /** The protocols enforced; KNOWN_PROTOCOLS unless a test narrows them. */
  protocols?: ReadonlyMap<string, ProtocolMachine>;
  /** message_id of the TIMEOUT failures. */
  newId?: () => string;
}

/** Unref'd: a pending deadline must not keep a stopping node alive. */
const realTimer: SetTimer = (ms, fire) => {
  const handle = setTimeout(fire, ms);
  handle.unref();
  return () => clearTimeout(handle);
};

/** How strictly a message is judged: `check` refuses what breaks the protocol, `observe` applies what fits. */
const STRICT = true;
const LENIENT = false;

/** What one initiator holds in conversations still going on (ended ones are not counted). */
interface InitiatorShare {
  conversations: number;
  participants: number;
}

export class ConversationTracker implements ConversationGate {
  readonly #now: () => number;
  readonly #setTimer: SetTimer;
  readonly #maxConversations: number;
  readonly #maxParticipants: number;
  /** Participants across every tracked conversation, held under maxParticipants. */
  #participantCount = 0;
  readonly #maxPerInitiator: number;
  readonly #maxParticipantsPerInitiator: number;
  /** Each initiator's conversations in #byActivity; an initiator with none has no entry. */
  readonly #openBy = new Map<string, InitiatorShare>();
  readonly #idleMs: number;
  readonly #sweepIntervalMs: number;
  readonly #observer: ConversationObserver | undefined;
  readonly #protocols: ReadonlyMap<string, ProtocolMachine>;
  readonly #newId: () => string;
  readonly #conversations = new Map<string, Conversation>();
  /** The conversations still going on by last activity, oldest first: eviction and idle expiry take from the front. */
  readonly #byActivity = new ActivityList<Conversation>();
  /** The ended ones, in their grace; the first given up when the tracker is full. */
  readonly #ended: EndedGrace;
  #hostRoute: ((message: AclMessage) => void) | undefined;
  #cancelSweep: (() => void) | undefined;

  constructor(options: ConversationTrackerOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#setTimer = options.setTimer ?? realTimer;
    this.#maxConversations = Math.max(1, options.maxConversations ?? CONVERSATION_DEFAULTS.maxConversations);
    this.#maxParticipants = Math.max(1, options.maxParticipants ?? CONVERSATION_DEFAULTS.maxParticipants);
    const share = CONVERSATION_DEFAULTS.initiatorShare;
    this.#maxPerInitiator = Math.max(1, options.maxPerInitiator ?? Math.ceil(this.#maxConversations / share));
    this.#maxParticipantsPerInitiator = Math.max(1, options.maxParticipantsPerInitiator ?? Math.ceil(this.#maxParticipants / share));
    this.#idleMs = options.idleMs ?? CONVERSATION_DEFAULTS.idleMs;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? Math.min(CONVERSATION_DEFAULTS.sweepIntervalMs, this.#idleMs);
    this.#observer = options.observer;
    this.#protocols = options.protocols ?? KNOWN_PROTOCOLS;
    this.#newId = options.newId ?? randomUUID;
    const graceMs = options.endedGraceMs ?? CONVERSATION_DEFAULTS.endedGraceMs;
    this.#ended = new EndedGrace(graceMs, this.#now, this.#setTimer, (conversation) => this.#drop(conversation));
  }

  /** Conversations held in memory, ended ones in their grace included. */
  get size(): number {
    return this.#conversations.size;
  }

  /** Ended conversations held for their grace. */
  get endedSize(): number {
    return this.#ended.size;
  }

  enforces(protocol: string): boolean {
    return this.#protocols.has(protocol);
  }

  bindHostRoute(route: (message: AclMessage) => void): void {
    this.#hostRoute = route;
  }

  check(message: AclMessage, receivers: readonly string[]): ProtocolRejection | undefined {
    const machine = message.protocol === undefined ? undefined : this.#protocols.get(message.protocol);
    if (machine === undefined) return undefined;
    const rejection = this.#judge(machine, message, receivers, STRICT);
    if (rejection !== undefined && this.#observer !== undefined) {
      const conversation = this.#conversations.get(message.conversation_id);
      this.#observer.onUpdate({
        change: 'rejected',
        conversation_id: message.conversation_id,
        protocol: machine.name,
        state: conversation?.state() ?? 'none',
        message,
        code: rejection.code,
      });
    }
    return rejection;
  }

  observe(message: AclMessage, receivers: readonly string[] = receiversOf(message)): void {
    const machine = message.protocol === undefined ? undefined : this.#protocols.get(message.protocol);
    if (machine !== undefined) this.#judge(machine, message, receivers, LENIENT);
  }

  /** Protocol, state and each participant's part, for GET /api/v1/conversations/{id}; undefined when not tracked. */
  view(id: string): ConversationStateView | undefined {
    const conversation = this.#tracked(id, this.#now());
    return conversation?.view();
  }

  /** Forgets every conversation and cancels every timer (node shutdown). */
  close(): void {
    for (const conversation of this.#conversations.values()) this.#disarm(conversation);
    this.#conversations.clear();
    this.#byActivity.clear();
    this.#openBy.clear();
    this.#ended.close();
    this.#participantCount = 0;
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
  }

  #judge(
    machine: ProtocolMachine,
    message: AclMessage,
    receivers: readonly string[],
    strict: boolean,
  ): ProtocolRejection | undefined {
    const now = this.#now();
    const conversation = this.#tracked(message.conversation_id, now);
    if (conversation === undefined) return this.#open(machine, message, receivers, now, strict);
    if (conversation.machine !== machine) {
      if (!strict) return undefined;
      const reason = `conversation "${conversation.id}" follows ${conversation.machine.name}, not ${machine.name}`;
      return violation(machine, conversation.state(), reason);
    }
    this.#expireDeadlines(conversation, now);
    // Nothing moves an ended conversation on: its messages are refused, or (from peers) ignored. Read after the
    // deadlines: a conversation their TIMEOUTs just ended is in its grace already and must not be touched again.
    const wasEnded = conversation.ended;
    const rejection =
      message.sender === conversation.initiator
        ? this.#fromInitiator(conversation, message, receivers, strict)
        : this.#fromParticipant(conversation, message, receivers, now, strict);
    if (rejection !== undefined || wasEnded || !this.#conversations.has(conversation.id)) return rejection;
    this.#touch(conversation, now);
    this.#emit(conversation.ended ? 'ended' : 'advanced', conversation, message);
    return undefined;
  }

  #open(
    machine: ProtocolMachine,
    message: AclMessage,
    receivers: readonly string[],
    now: number,
    strict: boolean,
  ): ProtocolRejection | undefined {
    const openingState = machine.openingState(message.performative);
    if (openingState === undefined) {
      if (!strict) return undefined;
      const openers = Object.keys(machine.opening).join(' or ');
      const reason =
        `"${message.performative}" outside any ${machine.name} conversation: conversation ` +
        `"${message.conversation_id}" is not open on this node (it opens with ${openers})`;
      return violation(machine, 'none', reason);
    }
    const deadline = machine.awaitsAnswer(openingState) ? deadlineOf(message) : Infinity;
    const replyKey = replyKeyOf(message);
    const participants = new Map<string, Participant>();
    for (let i = 0; i < receivers.length; i++) {
      const receiver = receivers[i];
      if (receiver !== message.sender) participants.set(receiver, { state: openingState, deadline, replyKey });
    }
    if (participants.size === 0) return undefined; // an agent talking to itself: nobody to hold to the protocol
    // Judged here, on this node; one opened on another node was judged there and is only recorded.
    const share = this.#openBy.get(message.sender);
    if (
      strict &&
      share !== undefined &&
      (share.conversations >= this.#maxPerInitiator || share.participants + participants.size > this.#maxParticipantsPerInitiator)
    ) {
      return initiatorQuotaExceeded(machine, message.sender, share.conversations, share.participants);
    }
    while (
      this.#conversations.size > 0 &&
      (this.#conversations.size >= this.#maxConversations || this.#participantCount + participants.size > this.#maxParticipants)
    ) {
      const ended = this.#ended.oldest;
      if (ended !== undefined) this.#forgetEnded(ended);
      else this.#forgetOldest('evicted');
    }
    this.#participantCount += participants.size;
    const id = message.conversation_id;
    const conversation = new Conversation(id, machine, message.sender, openingState, participants, strict, now);
    conversation.nextDeadline = deadline;
    this.#conversations.set(conversation.id, conversation);
    if (conversation.ended) {
      this.#ended.add(conversation);
    } else {
      this.#goingOn(conversation);
      this.#arm(conversation, now);
      this.#armSweep();
    }
    this.#emit('opened', conversation, message);
    return undefined;
  }

  #fromInitiator(
    conversation: Conversation,
    message: AclMessage,
    receivers: readonly string[],
    strict: boolean,
  ): ProtocolRejection | undefined {
    const machine = conversation.machine;
    const performative = message.performative;
    if (strict) {
      if (machine.openingState(performative) !== undefined) {
        const reason = `conversation "${conversation.id}" is already open: a new "${performative}" needs a new conversation_id`;
        return violation(machine, conversation.state(), reason);
      }
      if (conversation.ended) return violation(machine, conversation.state(), `conversation "${conversation.id}" has ended`);
      // Judge every receiver before changing anything: a message is delivered to all of them or to none.
      for (let i = 0; i < receivers.length; i++) {
        const participant = conversation.participants.get(receivers[i]);
        if (participant === undefined) {
          const reason = `"${receivers[i]}" is not a participant of conversation "${conversation.id}"`;
          return violation(machine, conversation.state(), reason);
        }
        const step = machine.step(participant.state, performative, 'initiator', conversation);
        if (!step.ok) return violation(machine, participant.state, `${step.reason} (participant "${receivers[i]}")`);
      }
    }
    let deadlineSet = false;
    for (let i = 0; i < receivers.length; i++) {
      const participant = conversation.participants.get(receivers[i]);
      if (participant === undefined) continue;
      const step = machine.step(participant.state, performative, 'initiator', conversation);
      if (!step.ok) continue;
      conversation.move(participant, step.next);
      if (machine.awaitsAnswer(step.next)) {
        // A new obligation (an accepted proposal owes a result): its own reply_by, or none.
        participant.deadline = deadlineOf(message);
        participant.replyKey = replyKeyOf(message);
        deadlineSet = true;
      }
    }
    if (deadlineSet || conversation.ended) this.#rearm(conversation);
    return undefined;
  }

  #fromParticipant(
    conversation: Conversation,
    message: AclMessage,
    receivers: readonly string[],
    now: number,
    strict: boolean,
  ): ProtocolRejection | undefined {
    const machine = conversation.machine;
    const participant = conversation.participants.get(message.sender);
    if (participant === undefined) {
      if (!strict) return undefined;
      const reason = `"${message.sender}" is not a participant of conversation "${conversation.id}"`;
      return violation(machine, conversation.state(), reason);
    }
    if (participant.state === TIMED_OUT) {
      return strict ? deadlinePassed(machine, message.sender, conversation, now) : undefined;
    }
    if (strict) {
      for (let i = 0; i < receivers.length; i++) {
        if (receivers[i] !== conversation.initiator) {
          const reason = `a participant answers the initiator "${conversation.initiator}" only, not "${receivers[i]}"`;
          return violation(machine, participant.state, reason);
        }
      }
      if (conversation.ended) return violation(machine, participant.state, `conversation "${conversation.id}" has ended`);
    }
    const step = machine.step(participant.state, message.performative, 'participant', conversation);
    if (!step.ok) return strict ? violation(machine, participant.state, step.reason) : undefined;
    conversation.move(participant, step.next);
    // An answer can only clear a deadline: nextDeadline may now be early, which costs one idle rescan, never a
    // wrong TIMEOUT (each participant's own deadline decides). Only an ended conversation drops its timer now.
    if (conversation.ended) this.#rearm(conversation);
    return undefined;
  }

  /** Times out every participant whose deadline has passed; the initiator hears of each (when this node tells it). */
  #expireDeadlines(conversation: Conversation, now: number): void {
    if (conversation.nextDeadline > now) return;
    let silent: string[] | undefined;
    for (const [name, participant] of conversation.participants) {
      if (participant.deadline > now) continue;
      conversation.move(participant, TIMED_OUT);
      participant.deadline = Infinity;
      (silent ??= []).push(name);
    }
    this.#rearm(conversation);
    if (silent === undefined) return;
    this.#touch(conversation, now);
    for (const name of silent) {
      this.#emit('timed-out', conversation, undefined, name);
      const participant = conversation.participants.get(name)!;
      if (!conversation.sendsTimeouts || this.#hostRoute === undefined) continue;
      this.#hostRoute(timeoutFailure(conversation, name, participant.replyKey, this.#newId()));
    }
  }

  #rearm(conversation: Conversation): void {
    const previous = conversation.nextDeadline;
    conversation.refreshNextDeadline();
    if (conversation.nextDeadline === previous && conversation.cancelTimer !== undefined) return;
    this.#disarm(conversation);
    this.#arm(conversation, this.#now());
  }

  #arm(conversation: Conversation, now: number): void {
    const deadline = conversation.nextDeadline;
    if (deadline === Infinity || !conversation.sendsTimeouts) return;
    conversation.cancelTimer = this.#setTimer(Math.min(MAX_TIMER_MS, Math.max(0, deadline - now)), () => {
      conversation.cancelTimer = undefined;
      if (this.#conversations.get(conversation.id) !== conversation) return;
      const firedAt = this.#now();
      if (conversation.nextDeadline > firedAt) this.#arm(conversation, firedAt); // woke early (MAX_TIMER_MS)
      else this.#expireDeadlines(conversation, firedAt);
    });
  }

  #disarm(conversation: Conversation): void {
    conversation.cancelTimer?.();
    conversation.cancelTimer = undefined;
  }

  /** Every change of a conversation passes here, the one that ends it last: it moves it to its grace. */
  #touch(conversation: Conversation, now: number): void {
    conversation.lastActivity = now;
    if (!conversation.ended) {
      this.#byActivity.touch(conversation);
    } else {
      this.#notGoingOn(conversation);
      this.#ended.add(conversation);
    }
  }

  /** Into the activity list, counted against its initiator's share. */
  #goingOn(conversation: Conversation): void {
    this.#byActivity.push(conversation);
    const share = this.#openBy.get(conversation.initiator);
    if (share === undefined) {
      this.#openBy.set(conversation.initiator, { conversations: 1, participants: conversation.participants.size });
    } else {
      share.conversations++;
      share.participants += conversation.participants.size;
    }
  }

  /** Out of the activity list (it ended, or is forgotten), and out of its initiator's share. */
  #notGoingOn(conversation: Conversation): void {
    this.#byActivity.remove(conversation);
    const share = this.#openBy.get(conversation.initiator)!;
    share.conversations--;
    share.participants -= conversation.participants.size;
    if (share.conversations === 0) this.#openBy.delete(conversation.initiator);
  }

  /** The conversation under this id; one whose grace is over is forgotten now, whether or not the sweep ran. */
  #tracked(id: string, now: number): Conversation | undefined {
    const conversation = this.#conversations.get(id);
    if (conversation === undefined || !conversation.ended || !this.#ended.isOver(conversation, now)) {
      return conversation;
    }
    this.#forgetEnded(conversation);
    return undefined;
  }

  #forgetOldest(reason: 'expired' | 'evicted'): void {
    const oldest = this.#byActivity.oldest!;
    this.#notGoingOn(oldest);
    this.#drop(oldest);
    this.#emit(reason, oldest);
    if (reason === 'evicted') this.#failOwedAnswers(oldest, evictionFailure);
    else if (oldest.sendsTimeouts) this.#failOwedAnswers(oldest, (c, name, key, id) => idleFailure(c, name, key, id, this.#idleMs));
  }

  /**
   * Once evicted, a participant's answer is refused as outside any conversation and no TIMEOUT will come, so the
   * initiator hears now of each participant that still owes one: one failure each, for this conversation only.
   * Sent by whichever node evicts, unlike a TIMEOUT: a participant's node that evicts is the one that will refuse
   * its answer, and the initiator's node, still tracking, would wait for it in silence. An idle one is failed
   * by the initiator's node only (as a TIMEOUT is): every node on its way forgets it at about the same time.
   */
  #failOwedAnswers(conversation: Conversation, failure: typeof evictionFailure): void {
    const route = this.#hostRoute;
    if (route === undefined) return;
    for (const [name, participant] of conversation.participants) {
      if (!conversation.machine.awaitsAnswer(participant.state)) continue;
      route(failure(conversation, name, participant.replyKey, this.#newId()));
    }
  }

  /** Silently: its 'ended' event was the last word on it. */
  #forgetEnded(conversation: Conversation): void {
    this.#ended.remove(conversation);
    this.#drop(conversation);
  }

  /** Forgets a conversation already out of its list. */
  #drop(conversation: Conversation): void {
    this.#disarm(conversation);
    this.#conversations.delete(conversation.id);
    this.#participantCount -= conversation.participants.size;
  }

  #armSweep(): void {
    if (this.#cancelSweep !== undefined) return;
    this.#cancelSweep = this.#setTimer(this.#sweepIntervalMs, () => {
      this.#cancelSweep = undefined;
      this.#sweep();
      if (this.#byActivity.oldest !== undefined) this.#armSweep();
    });
  }

  /** Forgets idle conversations, oldest first; one still waiting for a deadline counts as active. */
  #sweep(): void {
    const now = this.#now();
    for (;;) {
      const oldest = this.#byActivity.oldest;
      if (oldest === undefined || oldest.lastActivity + this.#idleMs > now) return;
      if (oldest.nextDeadline !== Infinity && oldest.nextDeadline > now) this.#touch(oldest, now);
      else this.#forgetOldest('expired');
    }
  }

  #emit(change: ConversationChange, conversation: Conversation, message?: AclMessage, participant?: string): void {
    if (this.#observer === undefined) return;
    this.#observer.onUpdate({
      change,
      conversation_id: conversation.id,
      protocol: conversation.machine.name,
      state: conversation.state(),
      ...(message !== undefined ? { message } : {}),
      ...(participant !== undefined ? { participant } : {}),
    });
  }
}
