// The failures the router sends an initiator in a participant's name, when that participant's answer will
// not come. Each names the participant as its sender, so a client counting answers per receiver counts it as
// that participant's answer, and answers the initiator's message (in_reply_to), so the client's wait matches it.
import type { AclMessage } from '../message.ts';
import type { Conversation } from './conversation.ts';

/** The participant did not answer by reply_by (messages.md). */
export function timeoutFailure(conversation: Conversation, participant: string, replyKey: string, messageId: string): AclMessage {
  const message = `"${participant}" did not answer by reply_by in conversation "${conversation.id}"`;
  return participantFailure(conversation, participant, replyKey, messageId, { code: 'TIMEOUT', message, details: { participant } });
}

/**
 * The tracker evicted the conversation to stay within its bounds while the participant still owed an answer:
 * that answer is now refused as outside any conversation, and its reply_by can no longer bring the TIMEOUT
 * messages.md promises. Code QUOTA_EXCEEDED, the spec's code for a node's own limit reached (agent-abi.md,
 * tools.md); messages.md lists none for this case.
 */
export function evictionFailure(conversation: Conversation, participant: string, replyKey: string, messageId: string): AclMessage {
  const message =
    `conversation "${conversation.id}" was evicted to keep this node within its bound on tracked conversations ` +
    `(messages.conversations_max) or participants: "${participant}" had not answered, and its answer may no longer reach you`;
  return participantFailure(conversation, participant, replyKey, messageId, {
    code: 'QUOTA_EXCEEDED',
    message,
    details: { participant, reason: 'evicted' },
  });
}

/**
 * The conversation went `messages.conversation_idle_ms` without a message and is forgotten while the participant
 * still owed an answer with no reply_by: a later answer would be refused as outside any conversation, so the
 * initiator hears now instead of never. Code TIMEOUT, as for a passed reply_by; `details.reason` tells them apart.
 */
export function idleFailure(conversation: Conversation, participant: string, replyKey: string, messageId: string, idleMs: number): AclMessage {
  const message = `"${participant}" did not answer in conversation "${conversation.id}" within ${idleMs} ms of its last message (messages.conversation_idle_ms)`;
  return participantFailure(conversation, participant, replyKey, messageId, {
    code: 'TIMEOUT',
    message,
    details: { participant, reason: 'idle' },
  });
}

function participantFailure(
  conversation: Conversation,
  participant: string,
  replyKey: string,
  messageId: string,
  error: { code: string; message: string; details: Record<string, unknown> },
): AclMessage {
  return {
    performative: 'failure',
    sender: participant,
    receiver: conversation.initiator,
    content: { error },
    conversation_id: conversation.id,
    in_reply_to: replyKey,
    protocol: conversation.machine.name,
    message_id: messageId,
  };
}
