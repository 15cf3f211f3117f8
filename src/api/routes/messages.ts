// A client sends a message as `client:<principal>`; with wait_ms it gets the receivers' answers back.
// sender and message_id are the host's to set: a client that sends them gets 400 naming the field, so a
// forged sender is refused loudly rather than silently replaced.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { jsonTextOf } from '../../messaging/wire-text.ts';
import { invalidArgument } from '../../errors.ts';
import { messageSchema, parseMessage } from '../../messaging/message.ts';
import type { SendResult } from '../../node/services.ts';
import { traceparentOf } from '../api-tracing.ts';
import { principalOf } from '../auth.ts';
import { ClientGone } from '../client-gone.ts';
import { sendUnavailable } from '../error-reply.ts';
import { bodyTextOf } from '../json-body.ts';
import type { RouteContext } from '../context.ts';
import { streamReplies } from '../reply-stream.ts';
import { holderKeyOf, PrincipalSlots, type SlotRefusal } from '../principal-slots.ts';
import { jsonSchemaOf, parseOrThrow, queryBool, queryInt } from '../validation.ts';

const HOST_SET_FIELDS = ['sender', 'message_id'] as const;

/** The message as a client may write it. */
export const clientMessage = messageSchema.omit({ sender: true, message_id: true });
/** The query of a send; `wait_ms` is capped by the node's api.max_wait_ms. */
export const sendQueryOf = (maxWaitMs: number) =>
  z.strictObject({
    wait_ms: queryInt(0, maxWaitMs).optional(),
    /** With wait_ms: answer text/event-stream, one event per reply as it arrives (see reply-stream.ts). */
    stream: queryBool.optional(),
  });

const NO_WAIT = -1;

const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * The 200 answer of a send that waited, as JSON text: each reply as the text it was delivered as where that
 * is known (an agent's send, spliced: wire-text.ts), so that a reply is not serialized once more here.
 */
export function sendResultJson(result: SendResult): string {
  let replies = '';
  for (const message of result.replies ?? []) replies += (replies === '' ? '' : ',') + jsonTextOf(message);
  return `{"message_id":${JSON.stringify(result.message_id)},"conversation_id":${JSON.stringify(result.conversation_id)},"replies":[${replies}]}`;
}

/**
 * `wait_ms` of the query almost every send has (`?wait_ms=<digits>` within the ceiling, or none), read
 * without zod; NO_WAIT for none, undefined for anything else (zod then accepts it or names the fault).
 */
export function plainWaitMs(query: unknown, maxWaitMs: number): number | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  let waitMs = NO_WAIT;
  for (const key in query) {
    if (key !== 'wait_ms') return undefined;
    const raw = (query as { wait_ms?: unknown }).wait_ms;
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 9) return undefined;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return undefined;
    }
    waitMs = Number(raw);
    if (waitMs > maxWaitMs) return undefined;
  }
  return waitMs;
}

export interface MessageRouteOptions extends RouteContext {
  /** Sends waiting for replies at once (api.max_waits); beyond it 503 at once, before the message is sent. */
  maxWaits: number;
  /** Of them, one principal's (api.max_waits_per_principal); beyond it 503 the same way. */
  maxWaitsPerPrincipal: number;
}

export const messageRoutes: FastifyPluginAsync<MessageRouteOptions> = async (app, { services, maxMessageBytes, maxWaitMs, sse, maxWaits, maxWaitsPerPrincipal }) => {
  const sendQuery = sendQueryOf(maxWaitMs);
  /** Sends of this API waiting (plain or streamed); each holds its request, response and wait until it ends. */
  const waits = new PrincipalSlots(maxWaits, maxWaitsPerPrincipal);
  const waitsFull: Record<SlotRefusal, string> = {
    node: `${maxWaits} sends waiting for replies on this node (api.max_waits); retry shortly, or send without wait_ms`,
    principal: `you have ${maxWaitsPerPrincipal} sends waiting for replies on this node (api.max_waits_per_principal); retry once some are answered, or send without wait_ms`,
  };
  app.post(
    '/api/v1/messages',
    {
      bodyLimit: maxMessageBytes,
      config: { permission: 'messages:send', audit: 'count' },
      schema: {
        summary:
          'Send a message; with wait_ms, wait for every receiver to answer (or the time to pass); with stream=true ' +
          'as well, get each reply as a server-sent event as it arrives (events sent, reply…, end)',
        tags: ['messages'],
        querystring: jsonSchemaOf(sendQuery),
        body: jsonSchemaOf(clientMessage),
        response: {
          200: {
            type: 'object',
            properties: {
              message_id: { type: 'string' },
              conversation_id: { type: 'string' },
              replies: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
          202: {
            type: 'object',
            properties: { message_id: { type: 'string' }, conversation_id: { type: 'string' } },
          },
        },
      },
    },
    async (request, reply) => {
      const plain = plainWaitMs(request.query, maxWaitMs);
      const { wait_ms: waitMs, stream } =
        plain === undefined ? parseOrThrow(sendQuery, request.query, 'query') : { wait_ms: plain === NO_WAIT ? undefined : plain, stream: undefined };
      if (stream && waitMs === undefined) throw invalidArgument('stream', 'stream: needs wait_ms (how long to stream replies)');
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw invalidArgument('body', 'body: must be a JSON object (a message)');
      }
      for (const field of HOST_SET_FIELDS) {
        if (field in body) throw invalidArgument(field, `${field}: set by the host; leave it out`);
      }
      const parsed = parseMessage(body);
      if (!parsed.ok) throw invalidArgument(parsed.field, parsed.message);
      const caller = principalOf(request);
      const holder = holderKeyOf(caller);
      if (stream && waitMs !== undefined) {
        // The stream opens while the message is sent, in this same turn: refused here, nothing is sent.
        const refused = waits.take(holder);
        // Widened: the route's schema types only its answers (200, 202) for the OpenAPI document.
        if (refused !== undefined) return sendUnavailable(reply as FastifyReply, waitsFull[refused]);
        try {
          if (sse.refuseWhenFull(reply)) return reply;
          return await streamReplies(request, reply, sse, services, parsed.message, waitMs);
        } finally {
          waits.give(holder);
        }
      }

      // A client that goes away while waiting ends the wait: its replies would have no one to go to.
      const principal = caller.id;
      let result;
      if (waitMs === undefined) {
        result = await services.sendMessage(parsed.message, { principal, traceparent: traceparentOf(request), bodyText: bodyTextOf(request.raw) });
      } else {
        const refused = waits.take(holder);
        if (refused !== undefined) return sendUnavailable(reply as FastifyReply, waitsFull[refused]);
        const gone = new ClientGone(reply.raw);
        try {
          result = await services.sendMessage(parsed.message, { principal, waitMs, signal: gone, traceparent: traceparentOf(request), bodyText: bodyTextOf(request.raw) });
        } finally {
          waits.give(holder);
          gone.detach();
        }
      }
      if (waitMs === undefined) {
        reply.code(202);
        return { message_id: result.message_id, conversation_id: result.conversation_id };
      }
      reply.type(JSON_UTF8);
      return sendResultJson(result);
    },
  );
};
