// The REST API of a node: what CaxtonNode serves (its services, cluster and key operations, tools, state,
// backups) and the limits, auth and TLS settings of config.api and config.auth, handed to src/api.
import type { FastifyInstance } from 'fastify';
import { parseClientCertificateRule } from '../api/api-tls.ts';
import { authLimitsOf } from '../api/auth-limits.ts';
import { buildApi } from '../api/server.ts';
import type { CaxtonNode } from './node.ts';

export function buildNodeApi(node: CaxtonNode): FastifyInstance {
  return buildApi({
    services: node,
    cluster: node.clusterServices,
    apiKeys: node,
    tools: node.tools,
    state: { backend: () => node.stateBackend.get() },
    backups: node.backups,
    logger: node.logger.child({ layer: 'api' }),
    metricsRegistry: node.metrics.registry,
    metricsCacheMs: node.config.api.metrics_cache_ms,
    tracer: node.tracing,
    httpDuration: node.metrics.httpRequestDuration,
    bodyLimitBytes: node.config.api.body_limit_bytes,
    maxBodyBytesInFlight: node.config.api.max_body_bytes_in_flight,
    requestTimeoutMs: node.config.api.request_timeout_ms,
    firstRequestTimeoutMs: node.config.api.first_request_timeout_ms,
    maxMessageBytes: node.config.messages.max_bytes,
    maxWaitMs: node.config.api.max_wait_ms,
    maxConnections: node.config.api.max_connections,
    maxConnectionsPerSource: node.config.api.max_connections_per_source,
    maxRequestsPerConnection: node.config.api.max_requests_per_connection,
    maxWaits: node.config.api.max_waits,
    maxWaitsPerPrincipal: node.config.api.max_waits_per_principal,
    maxEventStreams: node.config.api.max_event_streams,
    maxEventStreamsPerPrincipal: node.config.api.max_event_streams_per_principal,
    maxAnswersInFlight: node.config.api.max_answers_in_flight,
    maxAnswersQueued: node.config.api.max_answers_queued,
    mcpMaxInFlight: node.config.api.mcp_max_in_flight,
    mcpMaxInFlightPerPrincipal: node.config.api.mcp_max_in_flight_per_principal,
    mcpAllowedOrigins: node.config.api.mcp_allowed_origins,
    insecureNoAuth: node.config.auth.insecure_no_auth,
    authLimits: authLimitsOf(node.config.api),
    auditAggregation: {
      windowMs: node.config.api.audit_window_ms,
      denialsPerWindow: node.config.api.audit_denials_per_window,
      maxGroups: node.config.api.audit_groups_max,
    },
    ...(node.config.api.tls_cert !== undefined && node.config.api.tls_key !== undefined
      ? {
          tls: {
            files: { cert: node.config.api.tls_cert, key: node.config.api.tls_key, clientCa: node.config.api.tls_client_ca },
            clientRoles: node.config.api.tls_client_roles.map((entry) => parseClientCertificateRule(entry)!),
          },
        }
      : {}),
  });
}
