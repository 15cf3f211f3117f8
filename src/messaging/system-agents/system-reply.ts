// How the system agents answer: in the asker's conversation and protocol, in_reply_to its reply_with (or its
// message_id), so a client's wait and the protocol checks both recognise the answer.
import type { AclMessage } from '../message.ts';
import { replyKeyOf } from '../message.ts';
import { hostReply, mayAnswerWithFailure } from '../replies.ts';

export function informReply(question: AclMessage, from: string, content: unknown, messageId: string): AclMessage {
  return {
    performative: 'inform',
    sender: from,
    receiver: question.sender,
    content,
    conversation_id: question.conversation_id,
    in_reply_to: replyKeyOf(question),
    ...(question.protocol !== undefined ? { protocol: question.protocol } : {}),
    message_id: messageId,
  };
}

/** `not-understood` INVALID_MESSAGE; undefined for a failure or not-understood, which are never answered. */
export function notUnderstoodReply(
  question: AclMessage,
  from: string,
  text: string,
  details?: Record<string, unknown>,
): AclMessage | undefined {
  if (!mayAnswerWithFailure(question)) return undefined;
  return hostReply(question, from, 'not-understood', 'INVALID_MESSAGE', text, details);
}

/** The content as an object: JSON content written as a string (language json) is parsed first. */
export function contentObject(content: unknown): Record<string, unknown> | undefined {
  let value = content;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A non-empty string field of the content, or undefined. */
export function stringField(content: Record<string, unknown> | undefined, field: string): string | undefined {
  const value = content?.[field];
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

/**
 * What the system agents accept: a query-ref whose content names one thing, `{"<field>": "<name>"}`. Returns
 * that name; otherwise answers not-understood saying what the agent accepts (when the asker may be answered)
 * and returns undefined.
 */
export function queryRefArgument(question: AclMessage, from: string, field: string, route: (reply: AclMessage) => void): string | undefined {
  const usage = `${from} answers query-ref with content {"${field}": "<name>"}`;
  if (question.performative !== 'query-ref') {
    const reply = notUnderstoodReply(question, from, `${usage}, not "${question.performative}"`, { performative: question.performative });
    if (reply !== undefined) route(reply);
    return undefined;
  }
  const value = stringField(contentObject(question.content), field);
  if (value === undefined) {
    const reply = notUnderstoodReply(question, from, `${usage}: content.${field} must be a non-empty string`, { field: `content.${field}` });
    if (reply !== undefined) route(reply);
  }
  return value;
}
