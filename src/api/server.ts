// The REST API as a Fastify instance, not yet listening: the node (or a test) decides where it listens.
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { register as defaultRegistry, type Histogram, type Registry } from 'prom-client';
import { CaxtonError } from '../errors.ts';
import type { NodeServices } from '../node/services.ts';
import { registerAuth } from './auth.ts';
import type { ApiKeyServices } from './api-key-services.ts';
import type { ClusterServices } from './cluster-services.ts';
import type { RouteContext } from './context.ts';
import { API_DEFAULTS } from './defaults.ts';
import { toApiError } from './error-reply.ts';
import { agentControlRoutes } from './routes/agent-control.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { agentLogRoutes } from './routes/agent-logs.ts';
import { agentRoutes } from './routes/agents.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { SseHub } from './sse.ts';

export type HttpDurationLabels = 'method' | 'route' | 'status';

export interface ApiOptions {
  services: NodeServices;
  /** The cluster view for /api/v1/cluster/*; without it those routes answer 503 UNAVAILABLE. */
  cluster?: ClusterServices;
  /** API key management for /api/v1/security/api-keys; without it those routes answer 503 UNAVAILABLE. */
  apiKeys?: ApiKeyServices;
  /** A pino logger for requests and unexpected errors, or false for none. */
  logger: Logger | false;
  /** Served at GET /metrics; defaults to prom-client's global registry. */
  metricsRegistry?: Registry;
  /** Observes each answered request, in seconds, labelled by method, route pattern and status. */
  httpDuration?: Histogram<HttpDurationLabels>;
  /** Largest request body (JSON or multipart module); see API_DEFAULTS.bodyLimitBytes. */
  bodyLimitBytes?: number;
  /** Largest message body for POST /api/v1/messages; see API_DEFAULTS.maxMessageBytes. */
  maxMessageBytes?: number;
  /** Every request runs as principal `anonymous` with role admin; the caller refuses it off loopback. */
  insecureNoAuth?: boolean;
  /** Requests per client address per window. */
  rateLimit?: { max: number; timeWindowMs: number };
}

export function buildApi(options: ApiOptions): FastifyInstance {
  const bodyLimitBytes = options.bodyLimitBytes ?? API_DEFAULTS.bodyLimitBytes;
  const limits = options.rateLimit ?? API_DEFAULTS.rateLimit;
  const registry = options.metricsRegistry ?? defaultRegistry;

  const app = (
    options.logger ? Fastify({ loggerInstance: options.logger, bodyLimit: bodyLimitBytes, disableRequestLogging: true }) : Fastify({ logger: false, bodyLimit: bodyLimitBytes })
  ) as unknown as FastifyInstance;

  // zod validates inside the handlers (naming the field); route schemas only feed the OpenAPI document.
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.setSerializerCompiler(() => (value) => JSON.stringify(value));

  app.setErrorHandler((error, request, reply) => {
    const mapped = toApiError(error);
    if (!mapped.expected) request.log.error({ err: error }, 'request failed');
    reply.code(mapped.status).send(mapped.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new CaxtonError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    reply.code(404).send(error.toJSON());
  });

  const sse = new SseHub(API_DEFAULTS.sseHeartbeatMs, API_DEFAULTS.sseMaxBufferedBytes);
  // Open event streams would otherwise keep close() waiting for their clients.
  app.addHook('preClose', async () => sse.closeAll());

  if (options.httpDuration) {
    const histogram = options.httpDuration;
    app.addHook('onResponse', async (request, reply) => {
      histogram.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }

  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Caxton REST API', version: options.services.version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Before auth, so that a flood of bad credentials is cut off without asking services.authenticate.
  app.register(rateLimit, {
    global: true,
    max: limits.max,
    timeWindow: limits.timeWindowMs,
    errorResponseBuilder: (_request, context) =>
      new CaxtonError('RATE_LIMITED', `rate limit of ${context.max} requests exceeded; retry in ${context.after}`, {
        retry_after_seconds: Math.ceil(context.ttl / 1000),
      }),
  });
  registerAuth(app, options.services, options.insecureNoAuth ?? false);

  const context: RouteContext = {
    services: options.services,
    maxMessageBytes: options.maxMessageBytes ?? API_DEFAULTS.maxMessageBytes,
    bodyLimitBytes,
    sse,
  };
  app.register(healthRoutes, context);
  app.register(metricsRoutes, { registry });
  app.register(agentRoutes, context);
  app.register(agentLogRoutes, context);
  app.register(agentControlRoutes, context);
  app.register(messageRoutes, context);
  app.register(conversationRoutes, context);
  app.register(deadLetterRoutes, context);
  app.register(eventRoutes, context);
  app.register(clusterRoutes, { cluster: options.cluster });
  app.register(apiKeyRoutes, { apiKeys: options.apiKeys });
  app.register(openApiRoutes);
  return app;
}
