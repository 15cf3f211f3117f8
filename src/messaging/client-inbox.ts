// Where replies to API clients land. A client that sends with wait_ms registers a wait BEFORE its message
// is routed (the router may answer synchronously, e.g. AGENT_NOT_FOUND), then gets every reply that
// belongs to it, oldest first, once each receiver has answered or the time is up.
import { knownWireTextOf } from './wire-text.ts';
import { CaxtonError } from '../errors.ts';
import { countsAsAnswer } from './answers.ts';
import type { AclMessage } from './message.ts';
import { replyKeyOf } from './message.ts';
import type { ClientReplies } from './router-ports.ts';

/** Starts a timer; returns its cancel. Injected so tests (and a simulator) control time. */
export type SetTimer = (ms: number, fire: () => void) => () => void;

export interface ClientInboxOptions {
  setTimer?: SetTimer;
  /** Waits at once in one conversation (all clients together); MAX_WAITS_PER_CONVERSATION when absent. */
  maxWaitsPerConversation?: number;
  /** Replies one wait holds besides each receiver's first answer; MAX_REPLIES_PER_WAIT when absent. */
  maxRepliesPerWait?: number;
  /** Their text; MAX_REPLY_BYTES_PER_WAIT when absent. */
  maxReplyBytesPerWait?: number;
}

/**
 * What one wait holds of replies that are not a receiver's first answer (an `agree`, a second `inform`), so that
 * a receiver answering over and over cannot fill the node's memory: a scripted agent sending 1,000 `agree`s to
 * each of 40 waits took the node from 378 to 550 MB, and nothing bounded it short of the wait's end (up to
 * api.max_wait_ms). Each receiver's first answer is always taken (the wait needs it to end). Past either bound a
 * reply is not taken and is dead-lettered as one nobody waits for.
 */
export const MAX_REPLIES_PER_WAIT = 1000;
export const MAX_REPLY_BYTES_PER_WAIT = 16 * 1024 * 1024;
/** What a reply without known text is counted as: the host's own answers are short. */
const UNKNOWN_REPLY_BYTES = 512;

/**
 * Waits in one conversation are scanned for each reply in it: 8,000 waits of one client in one conversation made
 * 8,000 echoes there take 5.9 s of the main thread instead of 0.4 s (each reply ~0.7 ms, for any client, against
 * api.max_waits of 10,000). A client's concurrent sends rarely share a conversation; 256 keeps a reply's scan to
 * a few microseconds.
 */
export const MAX_WAITS_PER_CONVERSATION = 256;

/**
 * What ends a wait early. An AbortSignal is one; the API passes a lighter one per request (an AbortController
 * is an EventTarget: ~2 µs and several objects per request on the send path, measured).
 */
export interface WaitSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface ExpectOptions {
  /** Called with each reply as it arrives (streaming output); the promise still resolves with all of them. */
  onReply?: (reply: AclMessage) => void;
  /** Ends the wait early (client went away), resolving with what arrived so far. */
  signal?: WaitSignal;
  /**
   * The node each receiver is on when the message is routed (undefined: this node): a receiver whose node
   * is declared dead before it answered is answered `failure` by failNode().
   */
  nodeOf?: (receiver: string) => string | undefined;
}

interface Wait {
  readonly client: string;
  readonly sent: AclMessage;
  readonly replyKey: string;
  /** Receivers that have not answered yet. */
  readonly pending: Set<string>;
  readonly replies: AclMessage[];
  /** Text of the replies held, as counted against maxReplyBytesPerWait. */
  heldBytes: number;
  /** Receivers on other nodes, by node, as routed. */
  readonly nodes: Map<string, string> | undefined;
  readonly onReply: ((reply: AclMessage) => void) | undefined;
  readonly resolve: (replies: AclMessage[]) => void;
  readonly signal: WaitSignal | undefined;
  /** Ends this wait: the one closure a wait makes, handed to both the timer and the signal. */
  end: () => void;
  cancelTimer: () => void;
}

/** One options object for every signal listener (a wait ends once). */
const ONCE = { once: true } as const;

/** Unref'd so a pending wait never keeps a stopping process alive. */
const realTimer: SetTimer = (ms, fire) => {
  const handle = setTimeout(fire, ms);
  handle.unref();
  return () => clearTimeout(handle);
};

const noop = (): void => {};

export class ClientInbox implements ClientReplies {
  readonly #setTimer: SetTimer;
  /**
   * conversation id → the place in #slots of its wait(s). A number, not the wait: V8 keeps what was deleted
   * from a Map that churns reachable from the Map's superseded hash tables until the next full GC (a
   * reproduction promotes 85% of what passes through such a Map), and a wait reaches its whole request. On
   * the send bench the request was kept by the client-gone signal and pretenuring (see client-gone.ts and
   * bin/caxton.mjs); this keeps the Map from becoming a third way.
   */
  readonly #index = new Map<string, number>();
  /** The wait of a conversation (almost always one), or its waits (of one client or several); cleared when done. */
  readonly #slots: (Wait | Wait[] | undefined)[] = [];
  /** Cleared places of #slots, reused first: the array grows only to the most waits ever open at once. */
  readonly #freeSlots: number[] = [];
  #count = 0;
  readonly #maxWaitsPerConversation: number;
  readonly #maxRepliesPerWait: number;
  readonly #maxReplyBytesPerWait: number;

  constructor(options: ClientInboxOptions = {}) {
    this.#setTimer = options.setTimer ?? realTimer;
    this.#maxWaitsPerConversation = Math.max(1, options.maxWaitsPerConversation ?? MAX_WAITS_PER_CONVERSATION);
    this.#maxRepliesPerWait = Math.max(0, options.maxRepliesPerWait ?? MAX_REPLIES_PER_WAIT);
    this.#maxReplyBytesPerWait = Math.max(0, options.maxReplyBytesPerWait ?? MAX_REPLY_BYTES_PER_WAIT);
  }

  /** Waits in progress. */
  get waiting(): number {
    return this.#count;
  }

  /**
   * Throws UNAVAILABLE when `conversationId` already holds as many waits as one conversation may: a caller that
   * tells its client "sent" before it waits (a streamed send) asks first.
   */
  checkRoom(conversationId: string): void {
    const entry = this.#entryOf(conversationId);
    const waitsThere = entry === undefined ? 0 : Array.isArray(entry) ? entry.length : 1;
    if (waitsThere >= this.#maxWaitsPerConversation) {
      throw new CaxtonError(
        'UNAVAILABLE',
        `${waitsThere} sends already wait for replies in conversation "${conversationId}" on this node, the most one ` +
          'conversation may hold; the message was not sent: retry when some have their answers, or send without wait_ms',
        { conversation_id: conversationId },
      );
    }
  }

  /**
   * Waits for an answer from each of `receivers` (the router's resolved receivers of `sent`) to `sent`,
   * whose sender is the client's address (`client:<principal>`), for at most `waitMs`. Throws UNAVAILABLE, at
   * once and before the caller routes `sent`, when its conversation already holds as many waits as one may.
   */
  expect(sent: AclMessage, receivers: readonly string[], waitMs: number, options: ExpectOptions = {}): Promise<AclMessage[]> {
    this.checkRoom(sent.conversation_id);
    return new Promise<AclMessage[]>((resolve) => {
      const wait: Wait = {
        client: sent.sender,
        sent,
        replyKey: replyKeyOf(sent),
        pending: new Set(receivers),
        replies: [],
        heldBytes: 0,
        nodes: nodesOf(receivers, options.nodeOf),
        onReply: options.onReply,
        resolve,
        signal: options.signal,
        end: noop,
        cancelTimer: noop,
      };
      if (wait.pending.size === 0 || options.signal?.aborted) {
        resolve(wait.replies);
        return;
      }
      this.#add(wait);
      wait.end = () => this.#finish(wait);
      wait.cancelTimer = this.#setTimer(Math.max(0, waitMs), wait.end);
      wait.signal?.addEventListener('abort', wait.end, ONCE);
    });
  }

  /** True while `client` waits for replies in `conversationId` here. */
  waitsFor(client: string, conversationId: string): boolean {
    const entry = this.#entryOf(conversationId);
    if (entry === undefined) return false;
    if (!Array.isArray(entry)) return entry.client === client;
    for (const wait of entry) if (wait.client === client) return true;
    return false;
  }

  /** Hands a reply addressed to `client` to every wait it belongs to; false when none does. */
  deliver(reply: AclMessage, client: string): boolean {
    const entry = this.#entryOf(reply.conversation_id);
    if (entry === undefined) return false;
    if (!Array.isArray(entry)) return this.#offer(entry, reply, client);
    let taken = false;
    // A copy: a wait that this reply completes leaves the array.
    for (const wait of [...entry]) if (this.#offer(wait, reply, client)) taken = true;
    return taken;
  }

  /** Hands `reply` to `wait` if it is `client`'s and answers what the wait sent; true when taken. */
  #offer(wait: Wait, reply: AclMessage, client: string): boolean {
    if (wait.client !== client) return false;
    const inReplyTo = reply.in_reply_to;
    if (inReplyTo !== undefined && inReplyTo !== wait.replyKey && inReplyTo !== wait.sent.message_id) return false;
    const answers = countsAsAnswer(wait.sent.performative, reply.performative) && wait.pending.has(reply.sender);
    const bytes = knownWireTextOf(reply)?.length ?? UNKNOWN_REPLY_BYTES;
    if (!answers && (wait.replies.length >= this.#maxRepliesPerWait || wait.heldBytes + bytes > this.#maxReplyBytesPerWait)) return false;
    wait.heldBytes += bytes;
    wait.replies.push(reply);
    if (wait.onReply) {
      // A broken stream writer must not break routing for everyone else.
      try {
        wait.onReply(reply);
      } catch {}
    }
    if (answers) {
      wait.pending.delete(reply.sender);
      if (wait.pending.size === 0) this.#finish(wait);
    }
    return true;
  }

  /** Every wait in progress (a copy: finishing one while iterating is safe). */
  #allWaits(): Wait[] {
    const all: Wait[] = [];
    for (const entry of this.#slots) {
      if (Array.isArray(entry)) all.push(...entry);
      else if (entry !== undefined) all.push(entry);
    }
    return all;
  }

  /**
   * A node was declared dead: every receiver on it that has not answered a wait gets `failureOf` delivered as
   * its answer (a message its link acknowledged may have died in its mailbox; the client must not wait in
   * silence). Returns how many answers were made.
   */
  failNode(node: string, failureOf: (sent: AclMessage, receiver: string) => AclMessage): number {
    const answers: [string, AclMessage][] = [];
    for (const wait of this.#allWaits()) {
      if (!wait.nodes) continue;
      for (const receiver of wait.pending) if (wait.nodes.get(receiver) === node) answers.push([wait.client, failureOf(wait.sent, receiver)]);
    }
    for (const [client, reply] of answers) this.deliver(reply, client);
    return answers.length;
  }

  /**
   * `node` handed its agents on (a graceful leave): each receiver on it that has not answered a wait is
   * placed where `nodeOf` places it now, so failNode() covers its new node. Returns how many were moved.
   */
  moveReceivers(node: string, nodeOf: (receiver: string) => string | undefined): number {
    let moved = 0;
    for (const wait of this.#allWaits()) {
      if (!wait.nodes) continue;
      for (const receiver of wait.pending) {
        if (wait.nodes.get(receiver) !== node) continue;
        const now = nodeOf(receiver);
        if (now === node) continue;
        if (now === undefined) wait.nodes.delete(receiver);
        else wait.nodes.set(receiver, now);
        moved++;
      }
    }
    return moved;
  }

  /** Ends every wait with what arrived (node shutdown). */
  close(): void {
    for (const wait of this.#allWaits()) this.#finish(wait);
  }

  #entryOf(conversationId: string): Wait | Wait[] | undefined {
    const slot = this.#index.get(conversationId);
    return slot === undefined ? undefined : this.#slots[slot];
  }

  #add(wait: Wait): void {
    const conversationId = wait.sent.conversation_id;
    const slot = this.#index.get(conversationId);
    if (slot === undefined) {
      const free = this.#freeSlots.pop() ?? this.#slots.length;
      this.#slots[free] = wait;
      this.#index.set(conversationId, free);
    } else {
      const entry = this.#slots[slot]!;
      if (Array.isArray(entry)) entry.push(wait);
      else this.#slots[slot] = [entry, wait];
    }
    this.#count++;
  }

  /** Idempotent: the timer, the signal and the last answer may race to end the same wait. */
  #finish(wait: Wait): void {
    const conversationId = wait.sent.conversation_id;
    const slot = this.#index.get(conversationId);
    if (slot === undefined) return;
    const entry = this.#slots[slot];
    if (Array.isArray(entry)) {
      const at = entry.indexOf(wait);
      if (at === -1) return;
      entry.splice(at, 1);
      if (entry.length === 0) this.#clearSlot(conversationId, slot);
    } else if (entry === wait) {
      this.#clearSlot(conversationId, slot);
    } else {
      return;
    }
    this.#count--;
    wait.cancelTimer();
    wait.signal?.removeEventListener('abort', wait.end);
    wait.resolve(wait.replies);
  }

  #clearSlot(conversationId: string, slot: number): void {
    this.#index.delete(conversationId);
    this.#slots[slot] = undefined;
    this.#freeSlots.push(slot);
  }
}

function nodesOf(receivers: readonly string[], nodeOf: ((receiver: string) => string | undefined) | undefined): Map<string, string> | undefined {
  if (!nodeOf) return undefined;
  let out: Map<string, string> | undefined;
  for (const receiver of receivers) {
    const node = nodeOf(receiver);
    if (node !== undefined) (out ??= new Map()).set(receiver, node);
  }
  return out;
}
