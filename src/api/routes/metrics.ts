// Prometheus scrape endpoint: open to a scraper on the same host, a viewer's permission from elsewhere. For a
// caller from elsewhere the text is rendered at most once per `cacheMs` (api.metrics_cache_ms) and shared: a
// rendering costs ~3.6 ms of the API's thread, so a viewer key at its budget of 1,000 requests a second asked for
// 3.6 s of work a second and stalled the node; a scraper polling every 15 s never sees the difference. One on
// the same host (the operator's own, trusted as the route already trusts it) gets a fresh rendering each time.
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { isLoopback } from '../auth.ts';

export interface MetricsRouteOptions {
  registry: Registry;
  /** How long one rendering is answered again (api.metrics_cache_ms). */
  cacheMs: number;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { registry, cacheMs }) => {
  /** The last rendering (or the one under way, shared by every request meanwhile) and when it began. */
  let rendered: { atMs: number; text: Promise<string> } | undefined;
  app.get(
    '/metrics',
    {
      config: { permission: 'metrics:read', publicFromLoopback: true },
      schema: { summary: 'Prometheus metrics (text format)', tags: ['node'], produces: ['text/plain'] },
    },
    async (request, reply) => {
      reply.type(registry.contentType);
      if (isLoopback(request.socket.remoteAddress)) return registry.metrics();
      const nowMs = Date.now();
      if (rendered === undefined || nowMs - rendered.atMs >= cacheMs || nowMs < rendered.atMs) {
        const current = { atMs: nowMs, text: registry.metrics() };
        rendered = current;
        // A failed rendering is not kept: the next request tries again.
        current.text.catch(() => {
          if (rendered === current) rendered = undefined;
        });
      }
      return rendered.text;
    },
  );
};
