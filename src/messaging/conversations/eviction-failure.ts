// The failure the initiator gets for a participant that still owed an answer when the tracker evicted their
// conversation to stay within its bounds. Once evicted, the participant's answer is refused as outside any
// conversation here, and its reply_by can no longer bring the TIMEOUT messages.md promises: without this the
// initiator would wait in silence. Code QUOTA_EXCEEDED: the spec's code for a node's own limit reached
// (agent-abi.md, tools.md); messages.md lists none for this case. Like a TIMEOUT it names the participant as its
// sender and answers the initiator's message, so a client's wait counts it as that participant's answer.
import type { AclMessage } from '../message.ts';
import type { Conversation } from './conversation.ts';

export function evictionFailure(conversation: Conversation, participant: string, replyKey: string, messageId: string): AclMessage {
  return {
    performative: 'failure',
    sender: participant,
    receiver: conversation.initiator,
    content: {
      error: {
        code: 'QUOTA_EXCEEDED',
        message:
          `conversation "${conversation.id}" was evicted to keep this node within its bound on tracked conversations ` +
          `(messages.conversations_max) or participants: "${participant}" had not answered, and its answer may no longer reach you`,
        details: { participant, reason: 'evicted' },
      },
    },
    conversation_id: conversation.id,
    in_reply_to: replyKey,
    protocol: conversation.machine.name,
    message_id: messageId,
  };
}
