// POST /api/v1/messages?wait_ms=N&stream=true: the same wait as without `stream`, but each reply is written
// as a server-sent event the moment it reaches the node, so a client sees a slow contract net unfold.
//   event: sent   data: {"message_id", "conversation_id"}   (before any reply)
//   event: reply  data: the reply, as in "replies"           (one per reply, oldest first)
//   event: end    data: {"message_id", "conversation_id", "replies": count}
// The stream opens on the first event, so a message the node refuses still gets its plain 4xx.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { settledWireTextOf } from '../messaging/wire-text.ts';
import type { AclMessage, MessageInput } from '../messaging/message.ts';
import type { NodeServices } from '../node/services.ts';
import type { StreamingSendOptions } from '../node/streaming-send.ts';
import { traceparentOf } from './api-tracing.ts';
import { bodyTextOf } from './json-body.ts';
import { principalOf } from './auth.ts';
import { toApiError } from './error-reply.ts';
import type { SseHub, SseStream } from './sse.ts';

/**
 * A reply as one `reply` event: the text it was delivered as when it has one (an agent's spliced send) on a
 * single line, else serialized. An agent's own text may span lines, which a `data:` line cannot.
 */
function sendReply(stream: SseStream, answer: AclMessage): void {
  const text = settledWireTextOf(answer);
  if (text !== undefined && text.indexOf('\n') === -1 && text.indexOf('\r') === -1) stream.sendJson('reply', text);
  else stream.send('reply', answer);
}

export async function streamReplies(
  request: FastifyRequest,
  reply: FastifyReply,
  sse: SseHub,
  services: NodeServices,
  message: MessageInput,
  waitMs: number,
): Promise<void> {
  const stop = new AbortController();
  let stream: SseStream | undefined;
  const open = (): SseStream => {
    if (stream === undefined) {
      stream = sse.open(reply);
      // The client went away (or the server is closing): end the wait with what arrived.
      stream.onClose(() => stop.abort());
    }
    return stream;
  };
  const streamed = new Set<string>();
  let sentWritten = false;
  const options: StreamingSendOptions = {
    principal: principalOf(request).id,
    traceparent: traceparentOf(request),
    bodyText: bodyTextOf(request.raw),
    waitMs,
    signal: stop.signal,
    onSent: (ids) => {
      sentWritten = true;
      open().send('sent', ids);
    },
    onReply: (answer: AclMessage) => {
      streamed.add(answer.message_id);
      sendReply(open(), answer);
    },
  };
  let result;
  try {
    result = await services.sendMessage(message, options);
  } catch (error) {
    if (stream === undefined) throw error; // nothing written yet: the usual error reply
    stream.send('error', toApiError(error).body);
    stream.end();
    return;
  }
  const out = open();
  const ids = { message_id: result.message_id, conversation_id: result.conversation_id };
  // A node that cannot stream (a test double) still answers with the same events, all at the end.
  if (!sentWritten) out.send('sent', ids);
  for (const answer of result.replies ?? []) if (!streamed.has(answer.message_id)) sendReply(out, answer);
  out.send('end', { ...ids, replies: result.replies?.length ?? 0 });
  out.end();
}
