// What each configuration key accepts. One table drives the YAML check, the env and flag parsing (`kind` says
// how to read a string) and the error messages, which name the key and what was expected.
import { z } from 'zod';
import { DEFAULT_GOSSIP_PORT, type ConfigDefaults } from './defaults.ts';
import { parseHostPort } from './host-port.ts';
import { mcpServersSchema } from './mcp-servers.ts';

/** How a value written as a string (env var, CLI flag) is read. */
export type FieldKind = 'string' | 'integer' | 'boolean' | 'list' | 'json';

export interface Field {
  kind: FieldKind;
  schema: z.ZodType;
  /** Never logged (see redactConfig). */
  secret?: boolean;
}

const positiveInt = (): z.ZodType =>
  z.int({ error: 'expected a positive integer' }).min(1, { error: 'expected a positive integer' });
const nonNegativeInt = (): z.ZodType =>
  z.int({ error: 'expected a non-negative integer' }).min(0, { error: 'expected a non-negative integer' });
const agentWorkers = (): z.ZodType =>
  z.union(
    [
      z.literal('auto'),
      z.int().min(0).max(1024),
      z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.int().max(1024)),
    ],
    { error: "expected 'auto' or a number of worker threads from 0 to 1024" },
  );
const bool = (): z.ZodType => z.boolean({ error: 'expected true or false' });
const text = (): z.ZodType => z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });
const optionalText = (): z.ZodType => text().optional();

/** An http(s) URL (an OTLP collector). */
const httpUrl = () =>
  z.string({ error: 'expected an http(s) URL' }).refine(
    (s) => {
      try {
        const url = new URL(s);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: (issue) => `expected an http(s) URL such as http://127.0.0.1:4318/v1/traces, got '${String(issue.input)}'` },
  );

/** A fraction from 0 to 1, written as a number or (env, flags) as its text. */
const ratio = (): z.ZodType =>
  z
    .union([z.number(), z.string().regex(/^\s*\d*\.?\d+\s*$/, { error: 'expected a number from 0 to 1' }).transform(Number)], {
      error: 'expected a number from 0 to 1',
    })
    .pipe(z.number().min(0, { error: 'expected a number from 0 to 1' }).max(1, { error: 'expected a number from 0 to 1' }));

const hostPort = (): z.ZodType =>
  z
    .string({ error: 'expected HOST:PORT' })
    .refine((s) => parseHostPort(s) !== null, { error: (issue) => `expected HOST:PORT, got '${String(issue.input)}'` });

/** A join address: HOST:PORT, or HOST alone meaning the default gossip port. */
const joinAddress = (): z.ZodType =>
  z.string({ error: 'expected HOST:PORT' }).refine((s) => parseHostPort(s, DEFAULT_GOSSIP_PORT) !== null, {
    error: (issue) => `expected HOST:PORT, got '${String(issue.input)}'`,
  });

/** Bytes of a gossip key, or null when the text is not canonical base64. */
export function decodeGossipKey(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

const gossipKey = (): z.ZodType =>
  z
    .string({ error: 'expected a base64 key' })
    .superRefine((value, ctx) => {
      const bytes = decodeGossipKey(value);
      if (!bytes) ctx.addIssue({ code: 'custom', message: 'expected a base64 key of 16, 24 or 32 bytes, got text that is not base64' });
      else if (![16, 24, 32].includes(bytes.length)) {
        ctx.addIssue({ code: 'custom', message: `expected a base64 key of 16, 24 or 32 bytes, got ${bytes.length} bytes` });
      }
    })
    .optional();

/**
 * A cluster name for mDNS discovery: it becomes the DNS label `_serf_<name>` (Serf's service name), so it
 * must fit one label (63 bytes, 6 taken by `_serf_`) of letters, digits, `-` and `_`.
 */
const clusterName = (): z.ZodType =>
  z
    .string({ error: 'expected a cluster name' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,56}$/, { error: 'expected a cluster name of 1 to 57 letters, digits, - or _ (starting with a letter or digit)' })
    .optional();
/** The roles of interfaces.md; the config layer sits below the API, so it names them rather than importing them. */
export const RATE_LIMIT_ROLES = ['admin', 'operator', 'deployer', 'sender', 'viewer'] as const;

/** `ROLE=N`: a role's requests per window per principal (api.rate_limit_roles). */
export function parseRoleBudget(text: string): { role: (typeof RATE_LIMIT_ROLES)[number]; max: number } | null {
  const match = /^(\w+)=(\d{1,9})$/.exec(text);
  if (!match || !(RATE_LIMIT_ROLES as readonly string[]).includes(match[1]) || Number(match[2]) < 1) return null;
  return { role: match[1] as (typeof RATE_LIMIT_ROLES)[number], max: Number(match[2]) };
}

const roleBudget = (): z.ZodType =>
  z.string({ error: 'expected ROLE=N' }).refine((s) => parseRoleBudget(s) !== null, {
    error: (issue) => `expected ROLE=N with ROLE one of ${RATE_LIMIT_ROLES.join(', ')} and N a positive integer, got '${String(issue.input)}'`,
  });

/** `CN=ROLE` or `CN=PRINCIPAL:ROLE` (api.tls_client_roles); the principal may not be one the audit log reserves. */
const clientCertificateRole = (): z.ZodType =>
  z.string({ error: 'expected CN=ROLE' }).refine(
    (s) => {
      const match = /^(.+)=(?:([^:=]+):)?(admin|operator|deployer|sender|viewer)$/.exec(s);
      return match !== null && !['admin', 'anonymous', 'unauthenticated', '*'].includes((match[2] ?? match[1]).toLowerCase());
    },
    { error: (issue) => `expected CN=ROLE or CN=PRINCIPAL:ROLE with a known role and a principal other than admin/anonymous/unauthenticated, got '${String(issue.input)}'` },
  );

const field = (kind: FieldKind, schema: z.ZodType, secret = false): Field => ({ kind, schema, ...(secret ? { secret } : {}) });

/** Every key of caxton.yaml, by section; the sections and keys mirror DEFAULTS exactly. */
export const FIELDS: { [S in keyof ConfigDefaults]: { [K in keyof ConfigDefaults[S]]: Field } } = {
  node: {
    id: field('string', optionalText()),
    data_dir: field('string', text()),
  },
  api: {
    addr: field('string', hostPort()),
    body_limit_bytes: field('integer', positiveInt()),
    max_body_bytes_in_flight: field('integer', positiveInt()),
    request_timeout_ms: field('integer', positiveInt()),
    first_request_timeout_ms: field('integer', positiveInt()),
    rate_limit_max: field('integer', positiveInt()),
    rate_limit_window_ms: field('integer', positiveInt()),
    rate_limit_roles: field('list', z.array(roleBudget(), { error: 'expected a list of ROLE=N' })),
    rate_limit_keys_max: field('integer', positiveInt()),
    auth_failures_max: field('integer', positiveInt()),
    auth_failure_window_ms: field('integer', positiveInt()),
    audit_window_ms: field('integer', positiveInt()),
    audit_denials_per_window: field('integer', nonNegativeInt()),
    audit_groups_max: field('integer', positiveInt()),
    max_wait_ms: field('integer', positiveInt()),
    max_connections: field('integer', positiveInt()),
    max_connections_per_source: field('integer', positiveInt()),
    max_requests_per_connection: field('integer', positiveInt()),
    max_waits: field('integer', positiveInt()),
    max_waits_per_principal: field('integer', positiveInt()),
    max_event_streams: field('integer', positiveInt()),
    max_event_streams_per_principal: field('integer', positiveInt()),
    max_answer_bytes: field('integer', positiveInt()),
    max_answers_in_flight: field('integer', positiveInt()),
    max_answers_queued: field('integer', nonNegativeInt()),
    mcp_max_in_flight: field('integer', positiveInt()),
    mcp_max_in_flight_per_principal: field('integer', positiveInt()),
    metrics_cache_ms: field('integer', nonNegativeInt()),
    mcp_allowed_origins: field(
      'list',
      z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, { error: 'expected an origin, scheme://host[:port]' }), {
        error: 'expected a list of origins (scheme://host[:port])',
      }),
    ),
    tls_cert: field('string', optionalText()),
    tls_key: field('string', optionalText()),
    tls_client_ca: field('string', optionalText()),
    tls_client_roles: field('list', z.array(clientCertificateRole(), { error: 'expected a list of CN=ROLE or CN=PRINCIPAL:ROLE' })),
  },
  auth: {
    insecure_no_auth: field('boolean', bool()),
    jwt_issuer: field('string', optionalText()),
    jwt_audience: field('string', optionalText()),
    jwt_jwks_url: field('string', z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional()),
    jwt_secret: field(
      'string',
      z.string({ error: 'expected a string' }).min(32, { error: 'expected at least 32 characters (HS256 needs a key as long as its hash)' }).optional(),
      true,
    ),
    jwt_role_claim: field('string', text()),
    oidc_issuer: field('string', z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional()),
    oidc_audience: field('string', optionalText()),
    oidc_max_token_lifetime_ms: field('integer', positiveInt()),
    jwks_retry_ms: field('integer', positiveInt()),
  },
  cluster: {
    bind_addr: field('string', hostPort()),
    advertise_addr: field('string', hostPort().optional()),
    join: field('list', z.array(joinAddress(), { error: 'expected a list of HOST:PORT' })),
    bootstrap: field('boolean', bool()),
    bootstrap_expect: field('integer', nonNegativeInt()),
    encrypt: field('string', gossipKey(), true),
    discover: field('string', clusterName()),
    // RFC 6762 §5.2: never more than one query per second.
    discover_interval_ms: field(
      'integer',
      z.int({ error: 'expected an integer of at least 1000' }).min(1000, { error: 'expected at least 1000 (RFC 6762: at most one query per second)' }),
    ),
    token: field('string', optionalText(), true),
    drain_linger_ms: field('integer', nonNegativeInt()),
    drain_concurrency: field('integer', positiveInt()),
  },
  routing: {
    tls_dir: field('string', optionalText()),
    max_frame_bytes: field('integer', z.int({ error: 'expected an integer of at least 65536' }).min(65536, { error: 'expected an integer of at least 65536' })),
    queue_max_messages: field('integer', positiveInt()),
    queue_max_bytes: field('integer', positiveInt()),
    compress: field('boolean', bool()),
    compress_threshold_bytes: field('integer', nonNegativeInt()),
    connect_timeout_ms: field('integer', positiveInt()),
    ack_timeout_ms: field('integer', positiveInt()),
    tls_reload_interval_ms: field('integer', positiveInt()),
    join_token_ttl_ms: field('integer', positiveInt()),
  },
  gossip: {
    probe_interval_ms: field('integer', positiveInt()),
    probe_timeout_ms: field('integer', positiveInt()),
    indirect_checks: field('integer', nonNegativeInt()),
    gossip_nodes: field('integer', positiveInt()),
    gossip_interval_ms: field('integer', positiveInt()),
    push_pull_interval_ms: field('integer', nonNegativeInt()),
    suspicion_mult: field('integer', positiveInt()),
    suspicion_max_timeout_mult: field('integer', positiveInt()),
    retransmit_mult: field('integer', positiveInt()),
    awareness_max_multiplier: field('integer', positiveInt()),
    tcp_timeout_ms: field('integer', positiveInt()),
    gossip_to_the_dead_time_ms: field('integer', nonNegativeInt()),
    udp_buffer_size: field('integer', z.int({ error: 'expected an integer from 512 to 65507' }).min(512).max(65507)),
    tcp_max_connections: field('integer', positiveInt()),
    // Below 64 KiB not even a small push-pull fits.
    tcp_max_stream_bytes: field('integer', z.int({ error: 'expected an integer of at least 65536' }).min(65536, { error: 'expected an integer of at least 65536' })),
    tcp_stream_budget_bytes: field('integer', nonNegativeInt()),
    tcp_header_timeout_ms: field('integer', positiveInt()),
    delegate_versions: field('string', z.enum(['serf', 'memberlist'], { error: "expected 'serf' or 'memberlist'" })),
    max_members: field('integer', positiveInt()),
    max_queued_broadcasts: field('integer', positiveInt()),
  },
  registry: {
    max_records: field('integer', positiveInt()),
    tombstone_ttl_ms: field('integer', positiveInt()),
  },
  failover: {
    check_interval_ms: field('integer', positiveInt()),
    standby_module_bytes: field('integer', nonNegativeInt()),
    take_over_concurrency: field('integer', positiveInt()),
    module_fetch_timeout_ms: field('integer', positiveInt()),
  },
  agents: {
    // 65536 pages = 4 GiB, the whole wasm32 address space.
    memory_pages: field('integer', positiveInt().pipe(z.int().max(65536, { error: 'expected at most 65536 pages' }))),
    fuel: field('integer', positiveInt()),
    mailbox: field('integer', positiveInt()),
    max_module_bytes: field('integer', positiveInt()),
    max_functions: field('integer', positiveInt()),
    max_imports: field('integer', positiveInt()),
    max_exports: field('integer', positiveInt()),
    max_tables: field('integer', positiveInt()),
    max_data_segments: field('integer', positiveInt()),
    max_globals: field('integer', positiveInt()),
    max_table_elements: field('integer', positiveInt().pipe(z.int().max(10_000_000, { error: 'expected at most 10000000 (V8 limit)' }))),
    max_live_instances: field('integer', positiveInt()),
    max_traps: field('integer', positiveInt()),
    trap_window_ms: field('integer', positiveInt()),
    max_fuel: field('integer', positiveInt().pipe(z.int().max(Number.MAX_SAFE_INTEGER, { error: 'expected at most 2^53-1' }))),
    max_memory_pages: field('integer', positiveInt().pipe(z.int().max(65536, { error: 'expected at most 65536 pages' }))),
    max_invocation_ms: field('integer', positiveInt()),
    send_rate: field('integer', positiveInt()),
    send_burst: field('integer', positiveInt()),
    log_rate: field('integer', positiveInt()),
    log_burst: field('integer', positiveInt()),
    workers: field('string', agentWorkers()),
    worker_stall_ms: field('integer', positiveInt()),
  },
  messages: {
    max_bytes: field('integer', positiveInt()),
    conversation_idle_ms: field('integer', positiveInt()),
    conversations_max: field('integer', positiveInt()),
    conversation_ended_grace_ms: field('integer', positiveInt()),
    remote_awaits_max: field('integer', positiveInt()),
    remote_awaits_ttl_ms: field('integer', positiveInt()),
  },
  events: {
    messages_per_second: field('integer', nonNegativeInt()),
  },
  state: {
    dead_letters_max: field('integer', positiveInt()),
    dead_letters_per_sender: field('integer', positiveInt()),
    dead_letters_max_bytes: field('integer', positiveInt()),
    audit_max_rows: field('integer', positiveInt()),
    audit_denial_max_rows: field('integer', positiveInt()),
    audit_security_max_rows: field('integer', positiveInt()),
    audit_max_age_ms: field('integer', positiveInt()),
    audit_security_max_age_ms: field('integer', positiveInt()),
    conversation_max_messages: field('integer', positiveInt()),
    conversation_max_bytes: field('integer', positiveInt()),
    conversation_max_age_ms: field('integer', positiveInt()),
    flush_interval_ms: field('integer', positiveInt()),
    flush_max_rows: field('integer', positiveInt()),
    conversation_log: field(
      'string',
      z.enum(['all', 'tracked', 'off'], { error: 'expected one of all, tracked, off' }),
    ),
    backend: field('string', z.enum(['sqlite', 'postgres'], { error: 'expected sqlite or postgres' })),
    postgres_url: field(
      'string',
      z.string({ error: 'expected a postgres:// URL' }).regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' }).optional(),
      true,
    ),
    postgres_pool_max: field('integer', positiveInt()),
    postgres_connect_timeout_ms: field('integer', positiveInt()),
    max_keys_per_agent: field('integer', nonNegativeInt()),
    max_bytes_per_agent: field('integer', nonNegativeInt()),
  },
  mcp: {
    // Secret: env and headers carry the servers' tokens.
    servers: field('json', mcpServersSchema, true),
    call_timeout_ms: field('integer', positiveInt()),
    max_result_bytes: field('integer', positiveInt()),
    max_calls_per_server: field('integer', positiveInt()),
    max_calls_per_agent: field('integer', positiveInt()),
    start_timeout_ms: field('integer', positiveInt()),
    restart_backoff_ms: field('integer', positiveInt()),
    restart_backoff_max_ms: field('integer', positiveInt()),
  },
  backup: {
    interval_ms: field('integer', nonNegativeInt()),
    keep: field('integer', positiveInt()),
    dir: field('string', optionalText()),
  },
  log: {
    level: field(
      'string',
      z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        error: 'expected one of trace, debug, info, warn, error, fatal, silent',
      }),
    ),
    format: field('string', z.enum(['auto', 'json', 'pretty'], { error: 'expected one of auto, json, pretty' })),
  },
  metrics: {
    process_metrics: field('boolean', bool()),
  },
  telemetry: {
    otlp_endpoint: field('string', httpUrl().optional()),
    sampling_ratio: field('string', ratio()),
    service_name: field('string', text()),
    max_queued_spans: field('integer', positiveInt()),
    export_interval_ms: field('integer', positiveInt()),
  },
};

export type SectionName = keyof typeof FIELDS;

export function fieldOf(section: string, key: string): Field | undefined {
  if (!Object.hasOwn(FIELDS, section)) return undefined;
  const fields = FIELDS[section as SectionName] as Record<string, Field>;
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}
