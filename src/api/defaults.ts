// Every default of the REST layer in one place, each with the reason for its value.
import { DEFAULT_MAX_MESSAGE_BYTES } from '../messaging/message.ts';

export const API_DEFAULTS = {
  /** A request body (JSON or multipart): a 6 MiB WebAssembly module grows to 8 MiB once base64-encoded. */
  bodyLimitBytes: 8 * 1024 * 1024,
  /** JSON bodies being read at once (api.max_body_bytes_in_flight; config/defaults.ts says why). */
  maxBodyBytesInFlight: 256 * 1024 * 1024,
  /** Longest a request may take to arrive, headers and body (api.request_timeout_ms; config/defaults.ts says why). */
  requestTimeoutMs: 60_000,
  /** Longest a new connection may go without a request (api.first_request_timeout_ms; config/defaults.ts says why). */
  firstRequestTimeoutMs: 10_000,
  /** A message body: the size limit of a whole message in messages.md (1 MiB). */
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  /** The node's defaults (config/defaults.ts explains each): per principal and role, failed logins per source. */
  authLimits: {
    windowMs: 1000,
    perRole: { admin: 50_000, sender: 50_000, operator: 1000, deployer: 1000, viewer: 1000 },
    authFailuresMax: 10,
    authFailureWindowMs: 60_000,
    maxKeys: 100_000,
  },
  auditAggregation: { windowMs: 10_000, denialsPerWindow: 10, maxGroups: 10_000 },
  /** `wait_ms` ceiling: proxies and load balancers commonly drop requests idle for 60 s. */
  maxWaitMs: 60_000,
  /** Open connections at once (api.max_connections; config/defaults.ts says why). */
  maxConnections: 10_000,
  /** One address's share of maxConnections (api.max_connections_per_source; config/defaults.ts says why). */
  maxConnectionsPerSource: 1_000,
  /** Unanswered requests on one connection (api.max_requests_per_connection; config/defaults.ts says why). */
  maxRequestsPerConnection: 16,
  /** Sends waiting for replies at once (api.max_waits; config/defaults.ts says why). */
  maxWaits: 10_000,
  /** Of them, one principal's (api.max_waits_per_principal; config/defaults.ts says why). */
  maxWaitsPerPrincipal: 2_500,
  /** Server-sent event streams open at once (api.max_event_streams; config/defaults.ts says why). */
  maxEventStreams: 256,
  /** Of them, held by one principal (api.max_event_streams_per_principal; config/defaults.ts says why). */
  maxEventStreamsPerPrincipal: 32,
  /** How long one rendering of GET /metrics is answered again (api.metrics_cache_ms; config/defaults.ts says why). */
  metricsCacheMs: 1000,
  /** /mcp requests in flight of one principal (api.mcp_max_in_flight_per_principal; config/defaults.ts says why). */
  mcpMaxInFlightPerPrincipal: 64,
  /** History and dead-letter answers built at once (api.max_answers_in_flight; config/defaults.ts says why). */
  maxAnswersInFlight: 4,
  /** Reads waiting for one of them (api.max_answers_queued). */
  maxAnswersQueued: 1_000,
  /** Log lines per page when the client gives no `limit`; the ceiling keeps one response small. */
  logPageSize: 100,
  maxLogPageSize: 1000,
  /** Dead letters per page when the client gives no `limit`. */
  deadLetterPageSize: 100,
  maxDeadLetterPageSize: 10_000,
  /** SSE comment sent while idle so that proxies keep the stream open (many cut after 30-60 s). */
  sseHeartbeatMs: 15_000,
  /** An SSE client this far behind is too slow to keep: we close its stream rather than buffer without bound. */
  sseMaxBufferedBytes: 1024 * 1024,
} as const;
