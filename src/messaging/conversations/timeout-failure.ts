// The failure the router sends the initiator for a participant that did not answer by reply_by (messages.md).
// It names the participant as its sender, so a client counting answers per receiver counts it as that
// participant's answer, and answers the initiator's message (in_reply_to), so the client's wait matches it.
import type { AclMessage } from '../message.ts';
import type { Conversation } from './conversation.ts';

export function timeoutFailure(conversation: Conversation, participant: string, replyKey: string, messageId: string): AclMessage {
  return {
    performative: 'failure',
    sender: participant,
    receiver: conversation.initiator,
    content: {
      error: {
        code: 'TIMEOUT',
        message: `"${participant}" did not answer by reply_by in conversation "${conversation.id}"`,
        details: { participant },
      },
    },
    conversation_id: conversation.id,
    in_reply_to: replyKey,
    protocol: conversation.machine.name,
    message_id: messageId,
  };
}
