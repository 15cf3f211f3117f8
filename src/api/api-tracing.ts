// A span per authenticated API request when tracing is on (registered after auth: a refused caller gets none),
// a child of the client's `traceparent` header when it sends one.
// Messages a request sends carry the request's span as their parent (routes read it with traceparentOf).
// Probes and scrapes (/health, /metrics) are not traced: they come every few seconds and say nothing. Nor is
// any public route (the console's files): anyone may call it, and a span there let an anonymous flood with a
// sampled traceparent make and export a span per request, crowding real spans out of the bounded export queue.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestSpan, RequestTracer } from '../observability/tracing.ts';
import type { RouteAccess } from './permissions.ts';

const UNTRACED = new Set(['/health', '/metrics']);
const spans = new WeakMap<FastifyRequest, RequestSpan>();

export function registerApiTracing(app: FastifyInstance, tracer: RequestTracer): void {
  app.addHook('onRequest', async (request) => {
    if (UNTRACED.has(request.routeOptions.url ?? '') || (request.routeOptions.config as RouteAccess | undefined)?.public) return;
    const header = request.headers.traceparent;
    spans.set(request, tracer.startRequest(request.method, typeof header === 'string' ? header : undefined));
  });
  const end = (request: FastifyRequest, status: number): void => {
    const span = spans.get(request);
    if (span === undefined) return;
    spans.delete(request);
    span.end(request.routeOptions.url ?? 'unmatched', status);
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
  // A client that went away before the answer: 499, as nginx logs it.
  app.addHook('onRequestAbort', async (request) => end(request, 499));
}

/** The request's span as a `traceparent`, when tracing is on. */
export function traceparentOf(request: FastifyRequest): string | undefined {
  return spans.get(request)?.traceparent;
}
