// What the tracker tells the node (to persist history, publish events) and what it shows through
// GET /api/v1/conversations/{id}.
import type { AclMessage } from '../message.ts';

export type ConversationChange =
  /** The opening message was accepted. */
  | 'opened'
  /** A message moved one or more participants on. */
  | 'advanced'
  /** The message that made every participant's part final. */
  | 'ended'
  /** A participant did not answer by reply_by; a TIMEOUT failure went to the initiator (when this node sends them). */
  | 'timed-out'
  /** A message was refused (PROTOCOL_VIOLATION, DEADLINE_PASSED, or QUOTA_EXCEEDED for an opening) and not delivered. */
  | 'rejected'
  /** Forgotten after idleMs without activity; on the initiator's node each answer still owed became a TIMEOUT failure. (An ended one is forgotten after its grace with no event: 'ended' said it.) */
  | 'expired'
  /** Forgotten to stay within maxConversations (or maxParticipants); each answer still owed became a failure to the initiator. */
  | 'evicted';

export interface ConversationEvent {
  readonly change: ConversationChange;
  readonly conversation_id: string;
  readonly protocol: string;
  /** The conversation's state after the change; `none` for a message refused outside any conversation. */
  readonly state: string;
  /** The message that caused the change (absent for timeouts and forgetting). */
  readonly message?: AclMessage;
  /** The participant that timed out. */
  readonly participant?: string;
  /** Why a message was rejected. */
  readonly code?: 'PROTOCOL_VIOLATION' | 'DEADLINE_PASSED' | 'QUOTA_EXCEEDED';
}

/** Called synchronously on the routing path: buffer, do not block. */
export interface ConversationObserver {
  onUpdate(event: ConversationEvent): void;
}

export interface ParticipantView {
  name: string;
  state: string;
  /** RFC 3339; present while the participant owes an answer by a deadline. */
  reply_by?: string;
}

export interface ConversationStateView {
  conversation_id: string;
  protocol: string;
  initiator: string;
  state: string;
  participants: ParticipantView[];
  created_at: string;
  last_activity_at: string;
}
