// Live node events (membership, agent state, sampled messages) as server-sent events.
import type { FastifyPluginAsync } from 'fastify';
import type { RouteContext } from '../context.ts';

export const eventRoutes: FastifyPluginAsync<RouteContext> = async (app, { services, sse }) => {
  app.get(
    '/api/v1/events',
    {
      config: { permission: 'events:read' },
      schema: {
        summary: 'Server-sent events: membership changes, agent state changes, messages (sampled)',
        tags: ['node'],
        produces: ['text/event-stream'],
      },
    },
    async (_request, reply) => {
      if (sse.refuseWhenFull(reply)) return reply;
      const stream = sse.open(reply);
      const unsubscribe = services.onEvent((event) => stream.send(event.type, event));
      stream.onClose(unsubscribe);
    },
  );
};
