// The messages of one conversation as this node saw them, oldest first.
import type { FastifyPluginAsync } from 'fastify';
import type { AnswerSlots } from '../answer-slots.ts';
import { z } from 'zod';
import type { RouteContext } from '../context.ts';
import { jsonSchemaOf, parseOrThrow } from '../validation.ts';

const idParams = z.strictObject({ id: z.string().min(1).max(256) });
/** `after`: the `next_after` of the page before, when that page was `truncated` (api.max_answer_bytes). */
const pageQuery = z.strictObject({ after: z.string().regex(/^\d{1,15}\.\d{1,15}$/, { error: 'expected the next_after of an earlier answer' }).optional() });

export const conversationRoutes: FastifyPluginAsync<RouteContext & { answers: AnswerSlots }> = async (app, { services, answers }) => {
  app.get(
    '/api/v1/conversations/:id',
    {
      config: { permission: 'messages:read' },
      schema: {
        summary: 'A conversation: protocol, state and its messages, oldest first; truncated answers page on with after=next_after',
        tags: ['messages'],
        params: jsonSchemaOf(idParams),
        querystring: jsonSchemaOf(pageQuery),
        response: {
          200: {
            type: 'object',
            properties: {
              conversation_id: { type: 'string' },
              protocol: { type: 'string', nullable: true },
              state: { type: 'string' },
              messages: { type: 'array', items: { type: 'object', additionalProperties: true } },
              participants: { type: 'array', items: { type: 'object', additionalProperties: true } },
              truncated: { type: 'boolean' },
              next_after: { type: 'string' },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = parseOrThrow(idParams, request.params, 'id');
      const { after } = parseOrThrow(pageQuery, request.query, 'query');
      if (!(await answers.take(reply))) return reply;
      return services.getConversation(id, after !== undefined ? { after } : {});
    },
  );
};
