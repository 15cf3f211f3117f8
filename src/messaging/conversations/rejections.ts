// What the tracker answers instead of delivering (messages.md): not-understood PROTOCOL_VIOLATION for a
// message that breaks the protocol, failure DEADLINE_PASSED for a reply after reply_by.
import type { AclMessage } from '../message.ts';
import type { ProtocolMachine } from '../protocols/protocol-machine.ts';
import { TIMED_OUT } from '../protocols/protocol-machine.ts';
import type { ProtocolRejection } from '../router-ports.ts';
import type { Conversation } from './conversation.ts';

/** reply_by as epoch ms; Infinity when absent (the schema already refused malformed ones). */
export function deadlineOf(message: AclMessage): number {
  if (message.reply_by === undefined) return Infinity;
  const ms = Date.parse(message.reply_by);
  return Number.isNaN(ms) ? Infinity : ms;
}

export function violation(machine: ProtocolMachine, state: string, reason: string): ProtocolRejection {
  return { code: 'PROTOCOL_VIOLATION', performative: 'not-understood', reason, details: { protocol: machine.name, state } };
}

/**
 * An opening refused because its sender already initiates `open` conversations still going on here, its share
 * of the tracker (a tenth): past it, one sender's flood evicted every other sender's conversations.
 */
export function initiatorQuotaExceeded(machine: ProtocolMachine, sender: string, open: number, participants: number): ProtocolRejection {
  return {
    code: 'QUOTA_EXCEEDED',
    performative: 'failure',
    reason:
      `"${sender}" initiates ${open} conversations (${participants} participants) still going on on this node, ` +
      'the most one sender may (a tenth of messages.conversations_max and of the participants bound): ' +
      'let some end (or cancel them) before opening more',
    details: { protocol: machine.name, state: 'none', open_conversations: open, open_participants: participants },
  };
}

export function deadlinePassed(machine: ProtocolMachine, sender: string, conversation: Conversation, now: number): ProtocolRejection {
  return {
    code: 'DEADLINE_PASSED',
    performative: 'failure',
    reason:
      `reply from "${sender}" arrived after reply_by in conversation "${conversation.id}"; ` +
      'the initiator was told it timed out',
    details: { protocol: machine.name, state: TIMED_OUT, received_at: new Date(now).toISOString() },
  };
}
