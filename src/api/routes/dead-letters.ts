// The node's dead-letter store: messages that could not be delivered, to inspect and to purge.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../context.ts';
import { API_DEFAULTS } from '../defaults.ts';
import { jsonSchemaOf, parseOrThrow, queryInt } from '../validation.ts';

const listQuery = z.strictObject({ limit: queryInt(1, API_DEFAULTS.maxDeadLetterPageSize).optional() });

export const deadLetterRoutes: FastifyPluginAsync<RouteContext> = async (app, { services }) => {
  app.get(
    '/api/v1/dead-letters',
    {
      config: { permission: 'dead-letters:read' },
      schema: {
        summary: 'Messages that could not be delivered, newest last',
        tags: ['messages'],
        querystring: jsonSchemaOf(listQuery),
        response: {
          200: {
            type: 'object',
            properties: { dead_letters: { type: 'array', items: { type: 'object', additionalProperties: true } } },
          },
        },
      },
    },
    async (request) => {
      const { limit } = parseOrThrow(listQuery, request.query, 'query');
      return { dead_letters: services.deadLetters({ limit: limit ?? API_DEFAULTS.deadLetterPageSize }) };
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
