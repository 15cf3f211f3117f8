// The node's dead-letter store: messages that could not be delivered, to inspect and to purge.
import type { FastifyPluginAsync } from 'fastify';
import type { AnswerSlots } from '../answer-slots.ts';
import { z } from 'zod';
import type { RouteContext } from '../context.ts';
import { API_DEFAULTS } from '../defaults.ts';
import { jsonSchemaOf, parseOrThrow, queryInt } from '../validation.ts';

const listQuery = z.strictObject({
  limit: queryInt(1, API_DEFAULTS.maxDeadLetterPageSize).optional(),
  /** The `next_before_id` of the page before, when that page was `truncated`. */
  before_id: queryInt(1, Number.MAX_SAFE_INTEGER).optional(),
});

export const deadLetterRoutes: FastifyPluginAsync<RouteContext & { answers: AnswerSlots }> = async (app, { services, answers }) => {
  app.get(
    '/api/v1/dead-letters',
    {
      config: { permission: 'dead-letters:read' },
      schema: {
        summary: 'Messages that could not be delivered, newest first; truncated answers page on with before_id=next_before_id',
        tags: ['messages'],
        querystring: jsonSchemaOf(listQuery),
        response: {
          200: {
            type: 'object',
            properties: {
              dead_letters: { type: 'array', items: { type: 'object', additionalProperties: true } },
              truncated: { type: 'boolean' },
              next_before_id: { type: 'integer' },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { limit, before_id: beforeId } = parseOrThrow(listQuery, request.query, 'query');
      if (!(await answers.take(reply))) return reply;
      return services.deadLetters({ limit: limit ?? API_DEFAULTS.deadLetterPageSize, ...(beforeId !== undefined ? { beforeId } : {}) });
    },
  );

  app.delete(
    '/api/v1/dead-letters',
    {
      config: { permission: 'dead-letters:write' },
      schema: {
        summary: 'Purge the dead-letter store; answers how many were removed',
        tags: ['messages'],
        response: { 200: { type: 'object', properties: { purged: { type: 'integer' } } } },
      },
    },
    async () => ({ purged: services.purgeDeadLetters() }),
  );
};
