// The REST API as a Fastify instance, not yet listening: the node (or a test) decides where it listens.
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifySchemaCompiler, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { register as defaultRegistry, type Histogram, type Registry } from 'prom-client';
import { CaxtonError } from '../errors.ts';
import { limitRequestsPerConnection } from './client-gone.ts';
import { AnswerSlots } from './answer-slots.ts';
import { limitConnections } from './connection-limit.ts';
import { BodyBudget } from './body-budget.ts';
import { readJsonBody } from './json-body.ts';
import { decorateRouteOptionsOnce, routeOptionsOf } from './route-options.ts';
import type { RequestTracer } from '../observability/tracing.ts';
import { registerApiTracing } from './api-tracing.ts';
import type { NodeServices } from '../node/services.ts';
import { certificatePrincipals, readHttpsOptions, watchTlsFiles, type ApiTlsFiles, type ClientCertificateRule, type SecureContextTarget } from './api-tls.ts';
import { registerAuth, type AuditAggregation, type AuthLimits } from './auth.ts';
import type { ApiKeyServices } from './api-key-services.ts';
import type { ClusterServices } from './cluster-services.ts';
import type { RouteContext } from './context.ts';
import { API_DEFAULTS } from './defaults.ts';
import { MCP_DEFAULTS } from '../mcp/mcp-defaults.ts';
import { clientErrorResponse, toApiError } from './error-reply.ts';
import { agentControlRoutes } from './routes/agent-control.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { backupRoutes } from './routes/backup.ts';
import { consoleRoutes, DEFAULT_CONSOLE_DIR } from './routes/console.ts';
import type { BackupServices } from './backup-services.ts';
import { agentLogRoutes } from './routes/agent-logs.ts';
import { agentRoutes } from './routes/agents.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { auditRoutes } from './routes/audit.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { SseHub } from './sse.ts';
import type { ToolServices } from './tool-services.ts';
import { toolRoutes } from './routes/tools.ts';
import { stateRoutes } from './routes/state.ts';
import type { StateServices } from './state-services.ts';

export type HttpDurationLabels = 'method' | 'route' | 'status';

export interface ApiOptions {
  services: NodeServices;
  /** The cluster view for /api/v1/cluster/*; without it those routes answer 503 UNAVAILABLE. */
  cluster?: ClusterServices;
  /** API key management for /api/v1/security/api-keys; without it those routes answer 503 UNAVAILABLE. */
  apiKeys?: ApiKeyServices;
  /** The MCP servers for /api/v1/tools; without it that route answers 503 UNAVAILABLE. */
  tools?: ToolServices;
  /** The state backend for /api/v1/state; without it those routes answer 503 UNAVAILABLE. */
  state?: StateServices;
  /** The built web console served at /ui (build/console by default), or false for none. */
  consoleDir?: string | false;
  /** Online backups for GET /api/v1/backup; without it that route answers 503 UNAVAILABLE. */
  backups?: BackupServices;
  /** A pino logger for requests and unexpected errors, or false for none. */
  logger: Logger | false;
  /** Served at GET /metrics; defaults to prom-client's global registry. */
  metricsRegistry?: Registry;
  /** How long one rendering of /metrics is answered again; see API_DEFAULTS.metricsCacheMs. */
  metricsCacheMs?: number;
  /** A span per request (OpenTelemetry); absent when tracing is off. */
  tracer?: RequestTracer;
  /** Observes each answered request, in seconds, labelled by method, route pattern and status. */
  httpDuration?: Histogram<HttpDurationLabels>;
  /** Largest request body (JSON or multipart module); see API_DEFAULTS.bodyLimitBytes. */
  bodyLimitBytes?: number;
  /** Bytes of JSON bodies being read at once, over every connection; see API_DEFAULTS.maxBodyBytesInFlight. */
  maxBodyBytesInFlight?: number;
  /** Longest a request (headers and body) may take to arrive; see API_DEFAULTS.requestTimeoutMs. */
  requestTimeoutMs?: number;
  /** Longest a connection may wait for its first request's headers; see API_DEFAULTS.firstRequestTimeoutMs. */
  firstRequestTimeoutMs?: number;
  /** Largest message body for POST /api/v1/messages; see API_DEFAULTS.maxMessageBytes. */
  maxMessageBytes?: number;
  /** Ceiling of `wait_ms`; see API_DEFAULTS.maxWaitMs. */
  maxWaitMs?: number;
  /** Open connections at once; one more is closed when accepted. See API_DEFAULTS.maxConnections. */
  maxConnections?: number;
  /** Of those, one address's; one more is closed when accepted. See API_DEFAULTS.maxConnectionsPerSource. */
  maxConnectionsPerSource?: number;
  /** Unanswered requests on one connection (pipelined); one more is refused. See API_DEFAULTS.maxRequestsPerConnection. */
  maxRequestsPerConnection?: number;
  /** Sends waiting for replies at once (wait_ms); one more is refused. See API_DEFAULTS.maxWaits. */
  maxWaits?: number;
  /** Of them, one principal's; see API_DEFAULTS.maxWaitsPerPrincipal. */
  maxWaitsPerPrincipal?: number;
  /** Server-sent event streams open at once; one more is refused. See API_DEFAULTS.maxEventStreams. */
  maxEventStreams?: number;
  /** Of them, held by one principal; see API_DEFAULTS.maxEventStreamsPerPrincipal. */
  maxEventStreamsPerPrincipal?: number;
  /** History and dead-letter answers built at once; one more is refused. See API_DEFAULTS.maxAnswersInFlight. */
  maxAnswersInFlight?: number;
  /** Reads waiting for one of those at once; one more is refused. See API_DEFAULTS.maxAnswersQueued. */
  maxAnswersQueued?: number;
  /** /mcp requests handled at once; see MCP_DEFAULTS.maxInFlight. */
  mcpMaxInFlight?: number;
  /** Of them, one principal's; see MCP_DEFAULTS.maxInFlightPerPrincipal. */
  mcpMaxInFlightPerPrincipal?: number;
  /** Browser origins allowed to call /mcp (api.mcp_allowed_origins); none by default. */
  mcpAllowedOrigins?: readonly string[];
  /** Every request runs as principal `anonymous` with role admin; the caller refuses it off loopback. */
  insecureNoAuth?: boolean;
  /** Per-principal budgets by role and failed authentications per source; see API_DEFAULTS.authLimits. */
  authLimits?: AuthLimits;
  /** How denials and routine sends are aggregated in the audit log; see API_DEFAULTS.auditAggregation. */
  auditAggregation?: AuditAggregation;
  /** Serve over TLS from these files (reloaded when they change), with client certificates mapped by `clientRoles`. */
  tls?: { files: ApiTlsFiles; clientRoles: readonly ClientCertificateRule[] };
}

export function buildApi(options: ApiOptions): FastifyInstance {
  const bodyLimitBytes = options.bodyLimitBytes ?? API_DEFAULTS.bodyLimitBytes;
  const registry = options.metricsRegistry ?? defaultRegistry;
  const bodyBudget = new BodyBudget(options.maxBodyBytesInFlight ?? API_DEFAULTS.maxBodyBytesInFlight);
  const requestTimeoutMs = options.requestTimeoutMs ?? API_DEFAULTS.requestTimeoutMs;
  const firstRequestTimeoutMs = options.firstRequestTimeoutMs ?? API_DEFAULTS.firstRequestTimeoutMs;
  // Without it (Fastify's default is none) a body sent a byte at a time held its connection, and the body read
  // so far, for as long as the client liked: past it Node answers 408 and closes the connection. Given to the
  // server at creation (Node 20 ignores it set afterwards, as Fastify does). Node checks the requests in progress
  // every 30 s by default: a shorter timeout is checked four times over, so a request is cut within 1.25 times it.
  const requestTimeout = {
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(requestTimeoutMs / 4))),
  };

  const base = {
    bodyLimit: bodyLimitBytes,
    requestTimeout: requestTimeoutMs,
    // Node's TLS handshake bound is 120 s: as long as a connection may wait for its first request (connection-limit.ts).
    ...(options.tls ? { https: { ...readHttpsOptions(options.tls.files), ...requestTimeout, handshakeTimeout: firstRequestTimeoutMs } } : { http: requestTimeout }),
    // Refused by the router before any hook runs (a bad %-escape, an over-long path segment): same shape as the rest.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const mapped = toApiError(error);
      void reply.code(mapped.status).send(mapped.body);
    },
    clientErrorHandler: (error: Error & { code?: string }, socket: import('node:net').Socket) => {
      // An HTTP error (the parser's, a request too slow) is answered in HTTP. Any other (a TLS handshake that
      // failed or timed out, a reset) is closed: no HTTP was spoken there, and an answer written to a socket whose
      // handshake never ends waits for ever, holding the connection (a silent TLS client kept one for good).
      const httpError = error.code !== undefined && (error.code.startsWith('HPE_') || error.code === 'ERR_HTTP_REQUEST_TIMEOUT');
      if (httpError && socket.writable) socket.end(clientErrorResponse(error.code));
      else socket.destroy();
    },
  };
  const app = (
    options.logger
      ? // No line per request (the access log is the audit log and the metrics); Fastify 5.8 moved the switch into
        // a LogController and warns (FSTDEP023) at every start about the top-level `disableRequestLogging`.
        Fastify({
          ...base,
          loggerInstance: options.logger,
          logController: new LogController({ disableRequestLogging: true }),
          // The node's logger itself, not a child per request: pino runs each child's bindings (the reqId)
          // through its redaction, ~1.3 KB of garbage per request on the send path, for a binding that only
          // error lines would carry and nothing else in the node refers to.
          childLoggerFactory: (logger) => logger,
        })
      : Fastify({ ...base, logger: false })
  ) as unknown as FastifyInstance;

  decorateRouteOptionsOnce(app);
  limitConnections(
    app,
    {
      maxConnections: options.maxConnections ?? API_DEFAULTS.maxConnections,
      maxConnectionsPerSource: options.maxConnectionsPerSource ?? API_DEFAULTS.maxConnectionsPerSource,
      firstRequestTimeoutMs,
    },
    registry,
  );
  // The first onRequest hook: a connection pipelining too deep is refused before authentication costs anything.
  limitRequestsPerConnection(app, options.maxRequestsPerConnection ?? API_DEFAULTS.maxRequestsPerConnection, registry);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload, done) => {
    const limit = routeOptionsOf(request).bodyLimit ?? bodyLimitBytes;
    readJsonBody(payload, Number(request.headers['content-length'] ?? 0), limit, done, bodyBudget);
  });

  // zod validates inside the handlers (naming the field); route schemas only feed the OpenAPI document. No
  // validator at all (rather than one passing everything): Fastify then skips its validation step per request.
  app.setValidatorCompiler(() => undefined as unknown as ReturnType<FastifySchemaCompiler<unknown>>);
  app.setSerializerCompiler(() => (value) => JSON.stringify(value));

  app.setErrorHandler((error, request, reply) => {
    // The client closed its connection while sending the body: nothing failed here, and nobody will read an
    // answer. Not an error line with a stack (a client could write those at will); the 400 goes nowhere.
    if (request.raw.destroyed && (error as { code?: unknown }).code === 'ECONNRESET') {
      request.log.debug('the client left before sending the whole body');
      reply.code(400).send(new CaxtonError('INVALID_ARGUMENT', 'body: the connection closed before the whole body arrived', { field: 'body' }).toJSON());
      return;
    }
    const mapped = toApiError(error);
    // `expected`: a bound of the node that is full (api.max_body_bytes_in_flight), no fault to log.
    if (!mapped.expected && (error as { expected?: boolean }).expected !== true) request.log.error({ err: error }, 'request failed');
    const retryAfter = mapped.body.error.details?.retry_after_seconds;
    if ((mapped.status === 429 || mapped.status === 503) && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    // A body refused for its size is not read: closing the connection spares the node draining megabytes
    // it already said no to (a client may just send them again and again).
    if (mapped.status === 413 || (error as { closeConnection?: boolean }).closeConnection) reply.header('connection', 'close');
    reply.code(mapped.status).send(mapped.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new CaxtonError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    reply.code(404).send(error.toJSON());
  });

  const sse = new SseHub(
    API_DEFAULTS.sseHeartbeatMs,
    API_DEFAULTS.sseMaxBufferedBytes,
    options.maxEventStreams ?? API_DEFAULTS.maxEventStreams,
    options.maxEventStreamsPerPrincipal ?? API_DEFAULTS.maxEventStreamsPerPrincipal,
  );
  // Open event streams would otherwise keep close() waiting for their clients.
  app.addHook('preClose', async () => sse.closeAll());

  if (options.httpDuration) {
    const histogram = options.httpDuration;
    // A callback hook: an async one costs every request a promise and a microtask for a synchronous observe.
    app.addHook('onResponse', (request, reply, done) => {
      histogram.observe(
        { method: request.method, route: routeOptionsOf(request).url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
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
  const certificates = options.tls?.files.clientCa ? certificatePrincipals(options.tls.clientRoles) : undefined;
  registerAuth(app, {
    services: options.services,
    insecureNoAuth: options.insecureNoAuth ?? false,
    limits: options.authLimits,
    audit: options.auditAggregation,
    certificatePrincipal: certificates?.principalOf,
  });
  // After auth: a refused caller gets no span, so a forged sampled traceparent cannot make an anonymous
  // flood cost spans and exports (unauthenticated work stays cheaper than authenticated work).
  if (options.tracer) registerApiTracing(app, options.tracer);
  if (options.tls) {
    const stopWatching = watchTlsFiles(app.server as unknown as SecureContextTarget, options.tls.files, {
      loaded: (ca) => {
        if (ca !== undefined) certificates?.caReloaded(ca);
        app.log.info({ cert: options.tls!.files.cert }, 'API TLS certificate reloaded');
      },
      failed: (error) => app.log.warn({ err: error }, 'API TLS files changed but do not load; the current ones stay'),
    });
    app.addHook('onClose', async () => stopWatching());
  }

  const context: RouteContext = {
    services: options.services,
    maxMessageBytes: options.maxMessageBytes ?? API_DEFAULTS.maxMessageBytes,
    maxWaitMs: options.maxWaitMs ?? API_DEFAULTS.maxWaitMs,
    bodyLimitBytes,
    sse,
  };
  app.register(healthRoutes, context);
  app.register(metricsRoutes, { registry, cacheMs: options.metricsCacheMs ?? API_DEFAULTS.metricsCacheMs });
  app.register(agentRoutes, context);
  app.register(agentLogRoutes, context);
  app.register(agentControlRoutes, context);
  app.register(messageRoutes, {
    ...context,
    maxWaits: options.maxWaits ?? API_DEFAULTS.maxWaits,
    maxWaitsPerPrincipal: options.maxWaitsPerPrincipal ?? API_DEFAULTS.maxWaitsPerPrincipal,
  });
  const answers = new AnswerSlots(options.maxAnswersInFlight ?? API_DEFAULTS.maxAnswersInFlight, options.maxAnswersQueued ?? API_DEFAULTS.maxAnswersQueued);
  app.register(conversationRoutes, { ...context, answers });
  app.register(deadLetterRoutes, { ...context, answers });
  app.register(auditRoutes, context);
  app.register(eventRoutes, context);
  app.register(clusterRoutes, { cluster: options.cluster });
  app.register(apiKeyRoutes, { apiKeys: options.apiKeys });
  app.register(toolRoutes, { tools: options.tools });
  app.register(mcpRoutes, {
    services: options.services,
    cluster: options.cluster,
    maxInFlight: options.mcpMaxInFlight ?? MCP_DEFAULTS.maxInFlight,
    maxInFlightPerPrincipal: options.mcpMaxInFlightPerPrincipal ?? API_DEFAULTS.mcpMaxInFlightPerPrincipal,
    allowedOrigins: options.mcpAllowedOrigins ?? [],
    auditAggregation: options.auditAggregation ?? API_DEFAULTS.auditAggregation,
    answers,
  });
  app.register(stateRoutes, { state: options.state });
  app.register(backupRoutes, { backups: options.backups, services: options.services });
  app.register(openApiRoutes);
  if (options.consoleDir !== false) app.register(consoleRoutes, { dir: options.consoleDir ?? DEFAULT_CONSOLE_DIR });
  return app;
}
