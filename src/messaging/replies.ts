// Messages the host writes on an agent's or the router's behalf. A failure made by the host names the
// receiver it concerns as its sender, so a client gathering answers per receiver counts it as that
// receiver's answer; `content.error` says it came from the host.
import type { AclMessage, Performative } from './message.ts';
import { replyKeyOf } from './message.ts';
import { randomUuid } from './random-uuid.ts';

export type HostErrorCode =
  | 'AGENT_NOT_FOUND'
  | 'MAILBOX_FULL'
  | 'AGENT_UNAVAILABLE'
  | 'AGENT_ERROR'
  | 'AGENT_TRAPPED'
  | 'PROTOCOL_VIOLATION'
  | 'DEADLINE_PASSED'
  | 'TIMEOUT'
  | 'INVALID_MESSAGE'
  /** The receiver's node cannot be reached. */
  | 'NODE_UNREACHABLE'
  /** The link to the receiver's node is full: the peer is slow or stuck. */
  | 'LINK_FULL'
  /** The link failed after the message was handed to it and before the peer acknowledged it. */
  | 'LINK_LOST'
  /** A peer sent a message whose sender is not one of its agents or clients. */
  | 'SENDER_REFUSED'
  /** The agent worker thread holding the message was replaced (stuck or crashed) before the agent took it. */
  | 'WORKER_RESTARTED'
  /** The receiver's node took the message and was declared dead before the receiver answered. */
  | 'NODE_FAILED'
  /** The node the message went through left (gracefully) before the receiver's reply came back through it. */
  | 'REPLY_PATH_LOST'
  /** A bound of this node that the sender alone reached (the open conversations it initiates). */
  | 'QUOTA_EXCEEDED';

/** A reply from `from` to the sender of `original`, in the same conversation. */
export function hostReply(
  original: AclMessage,
  from: string,
  performative: Performative,
  code: HostErrorCode,
  message: string,
  details?: Record<string, unknown>,
): AclMessage {
  return {
    performative,
    sender: from,
    receiver: original.sender,
    content: { error: { code, message, ...(details ? { details } : {}) } },
    conversation_id: original.conversation_id,
    in_reply_to: replyKeyOf(original),
    ...(original.protocol ? { protocol: original.protocol } : {}),
    // The host's answer belongs to the trace of what it answers (set only when that is traced).
    ...(original.trace_context ? { trace_context: original.trace_context } : {}),
    message_id: randomUuid(),
  };
}

/** `failure` with an error code, from `from` to the original sender. */
export function failureReply(
  original: AclMessage,
  from: string,
  code: HostErrorCode,
  message: string,
  details?: Record<string, unknown>,
): AclMessage {
  return hostReply(original, from, 'failure', code, message, details);
}

/** Host-made failures never answer failures or not-understood: two broken parties must not ping-pong. */
export function mayAnswerWithFailure(original: Pick<AclMessage, 'performative'>): boolean {
  return original.performative !== 'failure' && original.performative !== 'not-understood';
}
