// The web console at /ui: the static files scripts/build-console.ts writes into build/console, served by
// @fastify/static. They hold no secret, so they are public; everything they show comes from the API with the
// user's key. Served precompressed (brotli or gzip, written by the build). index.html is revalidated on every load (it names the current hashed assets); the hashed
// assets are immutable. A strict Content-Security-Policy: scripts, styles and connections to this origin
// only, no inline script, no framing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export const DEFAULT_CONSOLE_DIR = new URL('../../../build/console', import.meta.url).pathname;

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const consoleRoutes: FastifyPluginAsync<{ dir: string }> = async (app, { dir }) => {
  // Every route this plugin adds is public (the auth hook refuses a route that declares nothing).
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), public: true };
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    // The same URL is sent brotli, gzip or plain by what the browser accepts: caches must keep them apart.
    reply.header('vary', 'accept-encoding');
    return payload;
  });

  if (!existsSync(join(dir, 'index.html'))) {
    const notBuilt = async (_request: unknown, reply: import('fastify').FastifyReply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built: run `npm run build:examples` (npm ci does it) and restart the node.\n');
    app.get('/ui', { schema: { hide: true } }, notBuilt);
    app.get('/ui/*', { schema: { hide: true } }, notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/ui/',
    redirect: true,
    wildcard: false,
    index: ['index.html'],
    // build-console.ts writes .br and .gz beside each file: sent as is to a browser that accepts them.
    preCompressed: true,
    etag: true,
    lastModified: true,
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
};
