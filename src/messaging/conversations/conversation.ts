// One tracked conversation: its protocol, who opened it, and each participant's part. Mutated only by the
// ConversationTracker; kept small because up to maxConversations of them live at once.
import type { ProtocolMachine } from '../protocols/protocol-machine.ts';
import type { ActivityNode } from './activity-list.ts';
import type { ConversationStateView } from './conversation-events.ts';

/** One participant's part. */
export interface Participant {
  state: string;
  /** Epoch ms by which it must answer (`reply_by`); Infinity when it owes nothing or no deadline was set. */
  deadline: number;
  /** The `in_reply_to` its answer (and a TIMEOUT failure on its behalf) carries: the initiator's reply key. */
  replyKey: string;
}

export class Conversation implements ActivityNode<Conversation> {
  readonly id: string;
  readonly machine: ProtocolMachine;
  /** The sender of the opening message: an agent or `client:<principal>`. */
  readonly initiator: string;
  /** The state participants start in; leaving it means they answered the opening message (or timed out). */
  readonly openingState: string;
  readonly participants: Map<string, Participant>;
  /**
   * False when the opening message came from another node: the initiator's node sends the TIMEOUT failures,
   * this one only refuses late replies.
   */
  readonly sendsTimeouts: boolean;
  readonly createdAt: number;
  /** Once ended: when it ended, which starts its grace (nothing moves an ended conversation on). */
  lastActivity: number;
  /** Participants still in openingState: the contract net decides only when none is. */
  openingPending: number;
  /** Participants whose part is not final; 0 = the conversation has ended. */
  active: number;
  /** Earliest deadline of a participant that owes an answer; Infinity when none. */
  nextDeadline = Infinity;
  /** Cancels the armed deadline timer; undefined when none is armed. */
  cancelTimer: (() => void) | undefined = undefined;
  /** Neighbours in the tracker's activity order, or in the order of ending once it ended. */
  older: Conversation | undefined = undefined;
  newer: Conversation | undefined = undefined;

  constructor(
    id: string,
    machine: ProtocolMachine,
    initiator: string,
    openingState: string,
    participants: Map<string, Participant>,
    sendsTimeouts: boolean,
    now: number,
  ) {
    this.id = id;
    this.machine = machine;
    this.initiator = initiator;
    this.openingState = openingState;
    this.participants = participants;
    this.sendsTimeouts = sendsTimeouts;
    this.createdAt = now;
    this.lastActivity = now;
    this.openingPending = participants.size;
    this.active = machine.isFinal(openingState) ? 0 : participants.size;
  }

  get ended(): boolean {
    return this.active === 0;
  }

  /** Moves one participant's part on, keeping the counters right. */
  move(participant: Participant, next: string): void {
    const previous = participant.state;
    if (previous === next) return;
    if (previous === this.openingState) this.openingPending--;
    if (!this.machine.isFinal(previous) && this.machine.isFinal(next)) this.active--;
    participant.state = next;
    if (!this.machine.awaitsAnswer(next)) participant.deadline = Infinity;
  }

  /** Recomputes nextDeadline; O(participants), so called only when a deadline may have changed. */
  refreshNextDeadline(): void {
    let earliest = Infinity;
    for (const participant of this.participants.values()) if (participant.deadline < earliest) earliest = participant.deadline;
    this.nextDeadline = earliest;
  }

  /** Protocol, state and each participant's part, as GET /api/v1/conversations/{id} shows them. */
  view(): ConversationStateView {
    const participants = [];
    for (const [name, participant] of this.participants) {
      const deadline = participant.deadline;
      const replyBy = deadline !== Infinity ? { reply_by: new Date(deadline).toISOString() } : {};
      participants.push({ name, state: participant.state, ...replyBy });
    }
    return {
      conversation_id: this.id,
      protocol: this.machine.name,
      initiator: this.initiator,
      state: this.state(),
      participants,
      created_at: new Date(this.createdAt).toISOString(),
      last_activity_at: new Date(this.lastActivity).toISOString(),
    };
  }

  /** The conversation's state as GET /conversations shows it. */
  state(): string {
    return this.machine.summarize(this.#states());
  }

  *#states(): Iterable<string> {
    for (const participant of this.participants.values()) yield participant.state;
  }
}
