// The messages of one conversation as this node saw them, oldest first.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../context.ts';
import { jsonSchemaOf, parseOrThrow } from '../validation.ts';

const idParams = z.strictObject({ id: z.string().min(1).max(256) });

export const conversationRoutes: FastifyPluginAsync<RouteContext> = async (app, { services }) => {
  app.get(
    '/api/v1/conversations/:id',
    {
      config: { permission: 'messages:read' },
      schema: {
        summary: 'A conversation: protocol, state and its messages, oldest first',
        tags: ['messages'],
        params: jsonSchemaOf(idParams),
        response: {
          200: {
            type: 'object',
            properties: {
              conversation_id: { type: 'string' },
              protocol: { type: 'string', nullable: true },
              state: { type: 'string' },
              messages: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
    },
    async (request) => {
      const { id } = parseOrThrow(idParams, request.params, 'id');
      return services.getConversation(id);
    },
  );
};
