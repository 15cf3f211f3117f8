// Prometheus scrape endpoint: open to a scraper on the same host, a viewer's permission from elsewhere.
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface MetricsRouteOptions {
  registry: Registry;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { registry }) => {
  app.get(
    '/metrics',
    {
      config: { permission: 'metrics:read', publicFromLoopback: true },
      schema: { summary: 'Prometheus metrics (text format)', tags: ['node'], produces: ['text/plain'] },
    },
    async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
};
