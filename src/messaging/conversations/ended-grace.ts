// Ended conversations (every participant's part final) kept for a short grace, so that a late or duplicate
// message is still refused as "has ended" instead of opening a new conversation, then forgotten. Held in
// order of ending, oldest first, in the same intrusive list the tracker uses for activity (a conversation
// is in one of the two lists, never both), and reclaimed by one timer for the whole list rather than one per
// conversation: at ~32k conversations/s a timer each would be 32k timers armed and cancelled a second.
// Whether a conversation is past its grace is decided from the clock (isOver), never from when the timer
// happened to fire: the sweep only gives the memory back.
import type { SetTimer } from '../client-inbox.ts';
import { ActivityList } from './activity-list.ts';
import type { Conversation } from './conversation.ts';

/** The sweep fires at most this many times per grace period under a steady stream of endings. */
const SWEEPS_PER_GRACE = 4;

export class EndedGrace {
  readonly #graceMs: number;
  /** How long the sweep waits at least between two runs: batches the endings of a busy node. */
  readonly #sweepGapMs: number;
  readonly #setTimer: SetTimer;
  readonly #now: () => number;
  /** Called for each conversation the sweep forgets (already out of the list). */
  readonly #forget: (conversation: Conversation) => void;
  readonly #list = new ActivityList<Conversation>();
  #count = 0;
  #cancelSweep: (() => void) | undefined;

  constructor(graceMs: number, now: () => number, setTimer: SetTimer, forget: (conversation: Conversation) => void) {
    this.#graceMs = Math.max(0, graceMs);
    this.#sweepGapMs = Math.max(1, Math.ceil(this.#graceMs / SWEEPS_PER_GRACE));
    this.#now = now;
    this.#setTimer = setTimer;
    this.#forget = forget;
  }

  /** Ended conversations held. */
  get size(): number {
    return this.#count;
  }

  /** The conversation that ended first: the one the tracker gives up first when it is full. */
  get oldest(): Conversation | undefined {
    return this.#list.oldest;
  }

  /** Starts the grace of a conversation that just ended (and is in no list); its lastActivity is when. */
  add(conversation: Conversation): void {
    this.#list.push(conversation);
    this.#count++;
    this.#arm(conversation.lastActivity);
  }

  isOver(conversation: Conversation, now: number): boolean {
    return conversation.lastActivity + this.#graceMs <= now;
  }

  remove(conversation: Conversation): void {
    this.#list.remove(conversation);
    this.#count--;
  }

  close(): void {
    this.#list.clear();
    this.#count = 0;
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
  }

  #arm(now: number): void {
    const oldest = this.#list.oldest;
    if (this.#cancelSweep !== undefined || oldest === undefined) return;
    const due = oldest.lastActivity + this.#graceMs - now;
    this.#cancelSweep = this.#setTimer(Math.max(this.#sweepGapMs, due), () => {
      this.#cancelSweep = undefined;
      const firedAt = this.#now();
      for (let oldest = this.#list.oldest; oldest !== undefined && this.isOver(oldest, firedAt); oldest = this.#list.oldest) {
        this.remove(oldest);
        this.#forget(oldest);
      }
      this.#arm(firedAt);
    });
  }
}
