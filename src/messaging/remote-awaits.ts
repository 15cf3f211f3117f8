// What this node's agents still await from agents on other nodes: a message that expects an answer (a
// request, a query, a cfp, a subscribe), handed to the link to the receiver's node, and not answered yet.
// A message that node's link acknowledged and that then died in the receiver's mailbox is answered by
// nobody: no LINK_LOST covers it (the link did its part), and a plain request has no reply_by. When that node
// is declared dead, the entries on it become `failure` NODE_FAILED to their senders (Router.failAwaitsOn).
//
// Never two answers for one message: an entry ends at the first answer its sender is handed (the agent's own,
// LINK_LOST, TIMEOUT, anything in reply to it that ends the receiver's turn), and an entry failed by the death
// leaves a mark so that a LINK_LOST reported afterwards for the same message (the link noticed later than the
// gossip) is not answered again. Bounded by count (the oldest go first, and are then silent on a death, as
// before) and by age, and per sender: one agent holds at most a tenth of the entries (past it its new messages
// are not recorded), so one agent flooding a silent remote agent with requests cannot push every other agent's
// entries out, each of which would then wait in silence if that node died. Pure: the clock is injected.
import { AgeOrderedMap } from './age-ordered-map.ts';
import { countsAsAnswer, expectsAnswer } from './answers.ts';
import type { AclMessage } from './message.ts';
import { replyKeyOf } from './message.ts';

export interface RemoteAwaitsOptions {
  /** Entries held at most (messages.remote_awaits_max); failed marks are held up to as many again. */
  maxEntries: number;
  /** Entries one sender may hold; maxEntries / SENDER_SHARE by default. */
  maxPerSender?: number;
  /** An entry older than this is forgotten (messages.remote_awaits_ttl_ms). */
  ttlMs: number;
  now?: () => number;
}

export interface RemoteAwait {
  readonly message: AclMessage;
  readonly receiver: string;
  readonly node: string;
  readonly at: number;
}

export interface RemoteAwaitsStats {
  /** Entries held now. */
  held: number;
  /** Entries dropped, or not recorded, because the ledger (or its sender's share) was full: no NODE_FAILED for them. */
  evicted: number;
  /** Entries forgotten unanswered after ttlMs. */
  expired: number;
  /** Entries answered NODE_FAILED. */
  failed: number;
  /** LINK_LOST reports not answered because NODE_FAILED had answered the message already. */
  suppressed: number;
}

const SEP = '\u0000';
/** One sender holds at most this part of maxEntries. */
const SENDER_SHARE = 10;
/**
 * record() looks for expired entries at most this often: a look costs little now that the entries are an
 * AgeOrderedMap (it stops at the first young entry), but needs not be made on every record.
 */
const EXPIRE_EVERY_MS = 1_000;

/** sender, receiver, conversation and reply key: what a reply names of the message it answers. */
function keyOf(sender: string, receiver: string, conversation: string, replyKey: string): string {
  return sender + SEP + receiver + SEP + conversation + SEP + replyKey;
}

export class RemoteAwaits {
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** In age order: the head is the oldest (an AgeOrderedMap, so trimming at the bound is O(1)). */
  readonly #entries = new AgeOrderedMap<string, RemoteAwait>();
  /** Keys of messages answered NODE_FAILED → when; same bounds as the entries. */
  readonly #failed = new AgeOrderedMap<string, number>();
  readonly #stats = { evicted: 0, expired: 0, failed: 0, suppressed: 0 };
  readonly #maxPerSender: number;
  /** Entries held per sender (an agent of this node); a sender with none has no entry. */
  readonly #bySender = new Map<string, number>();
  #expiredAt = -Infinity;

  constructor(options: RemoteAwaitsOptions) {
    this.#maxEntries = Math.max(1, options.maxEntries);
    this.#maxPerSender = Math.max(1, options.maxPerSender ?? Math.ceil(this.#maxEntries / SENDER_SHARE));
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): RemoteAwaitsStats {
    return { held: this.#entries.size, ...this.#stats };
  }

  /** `message`, from an agent of this node, was handed to the link to `node` for `receiver`. */
  record(message: AclMessage, receiver: string, node: string): void {
    if (!expectsAnswer(message.performative)) return;
    const now = this.#now();
    if (now - this.#expiredAt >= EXPIRE_EVERY_MS) this.#expire(now);
    const key = keyOf(message.sender, receiver, message.conversation_id, replyKeyOf(message));
    const previous = this.#entries.get(key);
    if (previous === undefined && (this.#bySender.get(message.sender) ?? 0) >= this.#maxPerSender) {
      this.#stats.evicted++;
      return;
    }
    if (previous !== undefined) this.#removed(previous);
    this.#entries.set(key, { message, receiver, node, at: now });
    this.#bySender.set(message.sender, (this.#bySender.get(message.sender) ?? 0) + 1);
    for (let oldest = this.#entries.oldestKey(); this.#entries.size > this.#maxEntries && oldest !== undefined; oldest = this.#entries.oldestKey()) {
      this.#removed(this.#entries.get(oldest)!);
      this.#entries.shift();
      this.#stats.evicted++;
    }
  }

  /** An entry left the ledger: out of its sender's count. */
  #removed(entry: RemoteAwait): void {
    const sender = entry.message.sender;
    const held = (this.#bySender.get(sender) ?? 1) - 1;
    if (held === 0) this.#bySender.delete(sender);
    else this.#bySender.set(sender, held);
  }

  /** `reply` is being handed to `receiver` (an agent of this node): ends the entry it answers, if it does. */
  settle(reply: AclMessage, receiver: string): void {
    const inReplyTo = reply.in_reply_to;
    if (inReplyTo === undefined) return;
    const key = keyOf(receiver, reply.sender, reply.conversation_id, inReplyTo);
    const entry = this.#entries.get(key);
    if (entry !== undefined && countsAsAnswer(entry.message.performative, reply.performative)) {
      this.#entries.delete(key);
      this.#removed(entry);
    }
  }

  /**
   * The link reports `message` for `receiver` undelivered: true when NODE_FAILED answered it already (the
   * caller must not answer it again); otherwise the entry ends (the caller's LINK_LOST answers it).
   */
  undelivered(message: AclMessage, receiver: string): boolean {
    const key = keyOf(message.sender, receiver, message.conversation_id, replyKeyOf(message));
    if (this.#failed.delete(key)) {
      this.#stats.suppressed++;
      return true;
    }
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#removed(entry);
    }
    return false;
  }

  /**
   * `node` is gone: takes the entries `matches` picks (given each entry; the caller decides which belong to
   * that node), oldest first, for their senders to be answered NODE_FAILED, and marks them answered.
   */
  take(matches: (entry: RemoteAwait) => boolean): RemoteAwait[] {
    const now = this.#now();
    this.#expire(now);
    const taken: RemoteAwait[] = [];
    for (const [key, entry] of this.#entries) {
      if (!matches(entry)) continue;
      this.#entries.delete(key);
      this.#removed(entry);
      this.#failed.set(key, now);
      taken.push(entry);
    }
    this.#stats.failed += taken.length;
    this.#trimFailed();
    return taken;
  }

  /** The entries on `node` that `matches` picks (see take). */
  takeNode(node: string, matches?: (entry: RemoteAwait) => boolean): RemoteAwait[] {
    return this.take((entry) => entry.node === node && (matches === undefined || matches(entry)));
  }

  /**
   * `node` handed its agents over (a drain, a graceful leave) with their mailboxes: an entry for a receiver
   * now elsewhere follows it (`whereNow` gives its node, undefined when it is unknown), so that node's death
   * answers it; one now on this node (`self`) is dropped, since its answer is made here or never leaves a
   * dead node. Returns how many moved.
   */
  follow(node: string, whereNow: (receiver: string) => string | undefined, self: string): number {
    let moved = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.node !== node) continue;
      const now = whereNow(entry.receiver);
      if (now === undefined || now === node) continue;
      if (now === self) {
        this.#entries.delete(key);
        this.#removed(entry);
        continue;
      }
      // Same key, same age: the entry keeps its place in the age order.
      this.#entries.replace(key, { ...entry, node: now });
      moved++;
    }
    return moved;
  }

  /**
   * `message` for `receiver` was answered NODE_FAILED elsewhere (a client's wait, ClientInbox.failNode): a
   * LINK_LOST reported for it afterwards is not answered again (see undelivered).
   */
  markFailed(message: AclMessage, receiver: string): void {
    const key = keyOf(message.sender, receiver, message.conversation_id, replyKeyOf(message));
    this.#failed.set(key, this.#now());
    this.#trimFailed();
  }

  #trimFailed(): void {
    while (this.#failed.size > this.#maxEntries && this.#failed.shift() !== undefined);
  }

  /** Drops entries and marks older than ttlMs, from the oldest (the maps are in age order). */
  #expire(now: number): void {
    this.#expiredAt = now;
    for (const [key, entry] of this.#entries) {
      if (now - entry.at <= this.#ttlMs) break;
      this.#entries.delete(key);
      this.#removed(entry);
      this.#stats.expired++;
    }
    for (const [key, at] of this.#failed) {
      if (now - at <= this.#ttlMs) break;
      this.#failed.delete(key);
    }
  }
}
