// The OpenAPI document, generated from the same schemas the handlers validate with.
import type { FastifyPluginAsync } from 'fastify';

export const openApiRoutes: FastifyPluginAsync = async (app) => {
  // Routes are fixed once the server is ready, so the document is built once (it takes about a millisecond).
  let document: unknown;
  app.get(
    '/api/v1/openapi.json',
    { config: { permission: 'api:read' }, schema: { hide: true } },
    async () => (document ??= app.swagger()),
  );
};
