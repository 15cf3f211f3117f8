// Liveness for load balancers and `caxton` itself: no credentials, no rate limit, no work.
import type { FastifyPluginAsync } from 'fastify';
import type { RouteContext } from '../context.ts';

export const healthRoutes: FastifyPluginAsync<RouteContext> = async (app, { services }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        summary: 'Liveness of this node',
        tags: ['node'],
        security: [],
        response: {
          200: {
            type: 'object',
            properties: { status: { type: 'string' }, node: { type: 'string' }, version: { type: 'string' } },
          },
        },
      },
    },
    async () => ({ status: 'ok', node: services.nodeId, version: services.version }),
  );
};
