// Authentication, rate limits and role checks for every route, plus the audit trail. Order matters, cheapest
// refusal first, all in onRequest (before any body is read or parsed):
//  1. a source (an IPv4 address, an IPv6 /64) over its budget of failed authentications gets 429 without its
//     credentials being looked up (only a key verified before, held in memory, still passes), and without an
//     audit row of its own (the aggregator counts it);
//  2. credentials are checked; a failure counts against the source;
//  3. the principal (API key, JWT subject, certificate) spends one of its role's budget: 429 beyond it;
//  4. the role must hold the route's permission: 403.
// Denials and mutating calls refused as the client's mistake (4xx) are audited through the aggregator ('flood'),
// routine message sends are counted ('count'), other mutating calls written one by one ('each').
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CaxtonError } from '../errors.ts';
import type { AuditEntry, NodeServices, Principal, Role } from '../node/services.ts';
import { AuditAggregator } from './audit-aggregator.ts';
import { API_DEFAULTS } from './defaults.ts';
import { FixedWindowLimiter } from './fixed-window-limiter.ts';
import { roleAllows, type RouteAccess } from './permissions.ts';
import { routeOptionsOf } from './route-options.ts';
import { sourceKeyOf } from './source-key.ts';

/** True when a request comes with a body (read or not), by its headers. */
function declaresBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** The principal of every request when auth is switched off for local development. */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ id: 'anonymous', role: 'admin', via: 'none' });

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export interface AuthLimits {
  /** Window of the per-principal budgets. */
  windowMs: number;
  /** Requests per window per principal, by role. */
  perRole: Readonly<Record<Role, number>>;
  /** Failed authentications per source (an IPv4 address, an IPv6 /64: see source-key.ts) per `authFailureWindowMs`. */
  authFailuresMax: number;
  authFailureWindowMs: number;
  /** Principals and sources tracked per window (each limiter); the rest share one overflow budget. */
  maxKeys: number;
}

export interface AuditAggregation {
  windowMs: number;
  /** Denials of one (caller, action, reason) written one by one per window before they are only counted. */
  denialsPerWindow: number;
  /** Groups counted per window; the rest share one overflow row. */
  maxGroups: number;
}

/** A client-certificate principal for this request, or null (the TLS layer maps subjects by config). */
export type CertificatePrincipal = (request: FastifyRequest) => Principal | null;

export interface AuthOptions {
  services: NodeServices;
  insecureNoAuth: boolean;
  limits?: AuthLimits;
  audit?: AuditAggregation;
  certificatePrincipal?: CertificatePrincipal;
}

function isPrincipal(value: Principal | Refusal): value is Principal {
  return (value as Refusal).status === undefined;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The method and route pattern. An unmatched URL is the client's own text, any length and new each time: as the
 * action it would make every request a group of its own in the aggregator, and a row as long as the URL. So
 * unmatched routes share one action per method, as the HTTP metrics label them.
 */
function actionOf(request: FastifyRequest): string {
  return `${request.method} ${routeOptionsOf(request).url ?? 'unmatched'}`;
}

/**
 * Longest target an audit row keeps. Names are at most 64 characters where they are valid, but the target is
 * read before the route checks it: a deployer's refused deploys named with 5 MB each wrote 5 MB audit rows (up to
 * api.body_limit_bytes each, ten per window, kept by the hundred thousand).
 */
const MAX_TARGET_LENGTH = 256;

function targetOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  // A create names its target in the body (POST /api/v1/security/api-keys {"name"}, a JSON deploy).
  const body = request.body as Record<string, unknown> | undefined;
  const target = params?.name ?? params?.id ?? (typeof body === 'object' && body !== null ? body.name : undefined);
  if (typeof target !== 'string') return undefined;
  return target.length > MAX_TARGET_LENGTH ? `${target.slice(0, MAX_TARGET_LENGTH - 3)}...` : target;
}

/**
 * A refused request: a plain object rather than an Error, since capturing a stack for each of a flood of
 * refusals would make refusing cost more than serving.
 */
interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

const MISSING_CREDENTIALS: Refusal = Object.freeze({
  status: 401,
  code: 'UNAUTHENTICATED',
  message: 'missing credentials: send Authorization: Bearer <api key or JWT>',
});
const INVALID_CREDENTIALS: Refusal = Object.freeze({ status: 401, code: 'UNAUTHENTICATED', message: 'invalid or expired credentials' });
/**
 * A request whose client reset its connection before the hook ran: nobody reads the answer and Node no longer
 * knows the address, so neither credentials nor the audit log are worth a look.
 */
const CLIENT_GONE: Refusal = Object.freeze({ status: 400, code: 'INVALID_ARGUMENT', message: 'the connection closed before the request was read' });

function rateLimited(retryAfterMs: number, message: string): Refusal {
  return { status: 429, code: 'RATE_LIMITED', message, details: { retry_after_seconds: Math.ceil(retryAfterMs / 1000) } };
}

const refusalOf = (error: CaxtonError): Refusal => ({ status: error.status, code: error.code, message: error.message, details: error.details });

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { services, insecureNoAuth } = options;
  const limits = options.limits ?? API_DEFAULTS.authLimits;
  const aggregation = options.audit ?? API_DEFAULTS.auditAggregation;
  const failures = new FixedWindowLimiter({ windowMs: limits.authFailureWindowMs, maxKeys: limits.maxKeys });
  const budgets = new FixedWindowLimiter({ windowMs: limits.windowMs, maxKeys: limits.maxKeys });
  const audit = new AuditAggregator({
    write: (entry) => services.audit(entry),
    windowMs: aggregation.windowMs,
    eachPerWindow: aggregation.denialsPerWindow,
    maxGroups: aggregation.maxGroups,
  });
  app.addHook('onClose', async () => audit.flush());
  app.decorateRequest('principal', null);

  /** Audits a refusal (aggregated when they flood) and hands back the error to answer with. */
  const deny = (request: FastifyRequest, principal: string, error: Refusal): Refusal => {
    audit.record(
      { principal, action: actionOf(request), outcome: 'denied', details: { code: error.code, ip: request.ip }, category: 'denial' },
      'flood',
    );
    return error;
  };

  /** A failed authentication: counted against its source, and audited. */
  const failed = (request: FastifyRequest, error: Refusal): Refusal => {
    failures.take(sourceKeyOf(request.ip), limits.authFailuresMax);
    return deny(request, 'unauthenticated', error);
  };

  /** A refusal for what services.authenticate threw; anything but a CaxtonError is the node's fault and rethrown. */
  const refusedBy = (request: FastifyRequest, error: unknown): Refusal => {
    // A refused JWT says why (expired, wrong issuer, ...); an unreachable JWKS (503) is not the caller's failure.
    if (error instanceof CaxtonError && error.code === 'UNAUTHENTICATED') return failed(request, refusalOf(error));
    if (error instanceof CaxtonError) return deny(request, 'unauthenticated', refusalOf(error));
    throw error;
  };

  /**
   * A bearer token not held in memory, checked by the node: an API key in memory (synchronous, so a wrong key
   * costs no promise), a JWT by its signature (asynchronous when its keys must be fetched).
   */
  const verify = (request: FastifyRequest, token: string): Principal | Refusal | Promise<Principal | Refusal> => {
    let result: Principal | null | Promise<Principal | null>;
    try {
      result = services.authenticate(token);
    } catch (error) {
      return refusedBy(request, error);
    }
    if (result instanceof Promise) {
      return result.then(
        (principal) => principal ?? failed(request, INVALID_CREDENTIALS),
        (error: unknown) => refusedBy(request, error),
      );
    }
    return result ?? failed(request, INVALID_CREDENTIALS);
  };

  /**
   * The principal, or the error that refuses the request (returned, not thrown: a flood of refusals stays cheap).
   * Synchronous unless a JWT must be verified: a client whose key or token was verified before (every request of
   * a client but its first), and any API key right or wrong, costs no promise and no microtask.
   */
  const authenticate = (request: FastifyRequest): Principal | Refusal | Promise<Principal | Refusal> => {
    if (insecureNoAuth) return ANONYMOUS_ADMIN;
    const source = sourceKeyOf(request.ip);
    const blockedMs = failures.blocked(source, limits.authFailuresMax);
    if (blockedMs > 0) {
      // A client whose key was verified before keeps working (a memory lookup): the block is for guessers, and
      // an address may be shared (NAT) with one.
      const known = services.authenticateKnown?.(BEARER.exec(request.headers.authorization ?? '')?.[1] ?? '');
      if (known) return known;
      return deny(
        request,
        'unauthenticated',
        rateLimited(blockedMs, `too many failed authentications from ${source}; retry in ${Math.ceil(blockedMs / 1000)} s`),
      );
    }
    const certified = options.certificatePrincipal?.(request);
    if (certified) return certified;
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) return failed(request, MISSING_CREDENTIALS);
    // The same memory services.authenticate looks in first (verified API keys, unexpired verified JWTs).
    const known = services.authenticateKnown?.(match[1]);
    if (known) return known;
    return verify(request, match[1]);
  };

  const refuse = (reply: FastifyReply, refusal: Refusal): FastifyReply => {
    const retryAfter = refusal.details?.retry_after_seconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    const { code, message, details } = refusal;
    return reply.code(refusal.status).send({ error: details ? { code, message, details } : { code, message } });
  };

  /** Budget and permission of an authenticated caller; refuses (answering, `done` not called) or calls `done`. */
  const admit = (request: FastifyRequest, reply: FastifyReply, access: RouteAccess, principal: Principal | Refusal, done: () => void): void => {
    if (!isPrincipal(principal)) {
      // The body of a request refused without credentials is not wanted. Kept open, the connection had Node read
      // and drop it to its end: a body sent a byte at a time held the connection for as long as the client
      // liked, and a huge one cost the node reading all of it, for nobody. (A known caller refused for its budget
      // or role keeps its connection: its body is bounded by api.request_timeout_ms and it will call again.)
      if (declaresBody(request)) reply.header('connection', 'close');
      refuse(reply, principal);
      return;
    }
    const budget = limits.perRole[principal.role] ?? 0;
    const overMs = budgets.take(`${principal.via ?? 'api-key'}:${principal.id}`, budget);
    if (overMs > 0) {
      refuse(
        reply,
        deny(request, principal.id, rateLimited(overMs, `rate limit of ${budget} requests per ${limits.windowMs} ms for role '${principal.role}' exceeded`)),
      );
      return;
    }
    // An unknown route: any authenticated caller learns it does not exist; nobody else does.
    if (request.is404) {
      request.principal = principal;
      done();
      return;
    }
    if (!access.permission || !roleAllows(principal.role, access.permission)) {
      refuse(
        reply,
        deny(
          request,
          principal.id,
          {
            status: 403,
            code: 'PERMISSION_DENIED',
            message: access.permission
              ? `role '${principal.role}' lacks the permission '${access.permission}'`
              : 'this route declares no permission and is refused',
            details: { role: principal.role, ...(access.permission ? { permission: access.permission } : {}) },
          },
        ),
      );
      return;
    }
    // Set only once allowed, so the response hook does not audit a denied call a second time.
    request.principal = principal;
    done();
  };

  // A callback hook, not an async one: a known caller is admitted without a promise (see authenticate).
  // A refusal answers and never calls `done`, which ends the request there.
  app.addHook('onRequest', (request, reply, done) => {
    const access = (routeOptionsOf(request).config ?? {}) as RouteAccess;
    if (access.public) return done();
    if (access.publicFromLoopback && isLoopback(request.socket.remoteAddress)) return done();
    if (request.socket.destroyed) {
      refuse(reply, CLIENT_GONE);
      return;
    }
    const principal = authenticate(request);
    if (principal instanceof Promise) {
      principal.then((resolved) => {
        try {
          admit(request, reply, access, resolved, done);
        } catch (error) {
          done(error as Error);
        }
      }, done);
    } else {
      admit(request, reply, access, principal, done);
    }
  });

  // Mutating calls are audited once they are answered, with their outcome. One the client got wrong (4xx: a bad
  // body, no such agent, no such route or method) changed nothing: such calls are aggregated as denials are, or
  // any principal (a viewer, at its 1,000 a second) could write a row each and push everyone's records out.
  app.addHook('onResponse', (request, reply, done) => {
    if (!MUTATING.has(request.method) || !request.principal) return done();
    const access = (routeOptionsOf(request).config ?? {}) as RouteAccess;
    const status = reply.statusCode;
    const entry: AuditEntry = {
      principal: request.principal.id,
      action: actionOf(request),
      target: access.audit === 'count' ? undefined : targetOf(request),
      outcome: status < 400 ? 'ok' : status === 403 ? 'denied' : 'error',
      details: { status },
      ...(access.audit === 'security' ? { category: 'security' as const } : {}),
    };
    audit.record(entry, access.audit === 'count' ? 'count' : status >= 400 && status < 500 ? 'flood' : 'each');
    done();
  });
}

/** The caller of a protected route; the auth hook guarantees it is set. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CaxtonError('UNAUTHENTICATED', 'no principal on this request');
  return request.principal;
}
