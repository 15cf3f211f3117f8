// Fastify's `request.routeOptions` is a getter that builds a new object of thirteen fields on every read, and
// the hooks of one request read it three or four times (auth before and after, the body parser, the duration
// metric). Here it is read once per request and kept on the request.
import type { FastifyInstance, FastifyRequest } from 'fastify';

export type RequestRouteOptions = FastifyRequest['routeOptions'];

declare module 'fastify' {
  interface FastifyRequest {
    /** request.routeOptions as first read (see routeOptionsOf); null until then. */
    routeOptionsOnce: RequestRouteOptions | null;
  }
}

/** Call once on the root instance, before any route. */
export function decorateRouteOptionsOnce(app: FastifyInstance): void {
  app.decorateRequest('routeOptionsOnce', null);
}

/** The route options of `request`, built once. */
export function routeOptionsOf(request: FastifyRequest): RequestRouteOptions {
  return (request.routeOptionsOnce ??= request.routeOptions);
}
