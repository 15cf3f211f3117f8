// Bearer-token authentication and role checks for every route, plus the audit trail: every denied call
// and every mutating call is written through services.audit.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CaxtonError } from '../errors.ts';
import type { NodeServices, Principal } from '../node/services.ts';
import { roleAllows, type RouteAccess } from './permissions.ts';

/** The principal of every request when auth is switched off for local development. */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ id: 'anonymous', role: 'admin' });

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function actionOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
}

function targetOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  // A create names its target in the body (POST /api/v1/security/api-keys {"name"}, a JSON deploy).
  const body = request.body as Record<string, unknown> | undefined;
  const target = params?.name ?? params?.id ?? (typeof body === 'object' && body !== null ? body.name : undefined);
  return typeof target === 'string' ? target : undefined;
}

export function registerAuth(app: FastifyInstance, services: NodeServices, insecureNoAuth: boolean): void {
  app.decorateRequest('principal', null);

  const deny = (request: FastifyRequest, principal: string, error: CaxtonError): never => {
    services.audit({
      principal,
      action: actionOf(request),
      target: targetOf(request),
      outcome: 'denied',
      details: { code: error.code, ip: request.ip },
    });
    throw error;
  };

  app.addHook('onRequest', async (request) => {
    const access = (request.routeOptions.config ?? {}) as RouteAccess;
    if (access.public) return;
    if (access.publicFromLoopback && isLoopback(request.socket.remoteAddress)) return;

    let principal: Principal | null = ANONYMOUS_ADMIN;
    if (!insecureNoAuth) {
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match) {
        return deny(
          request,
          'unauthenticated',
          new CaxtonError('UNAUTHENTICATED', 'missing credentials: send Authorization: Bearer <api key or JWT>'),
        );
      }
      try {
        principal = await services.authenticate(match[1]);
      } catch (error) {
        // A refused JWT says why (expired, wrong issuer, ...); it is denied and audited as any bad credential.
        if (error instanceof CaxtonError) return deny(request, 'unauthenticated', error);
        throw error;
      }
      if (!principal) {
        return deny(request, 'unauthenticated', new CaxtonError('UNAUTHENTICATED', 'invalid or expired credentials'));
      }
    }
    // An unknown route: any authenticated caller learns it does not exist; nobody else does.
    if (request.is404) {
      request.principal = principal;
      return;
    }
    if (!access.permission || !roleAllows(principal.role, access.permission)) {
      deny(
        request,
        principal.id,
        new CaxtonError(
          'PERMISSION_DENIED',
          access.permission
            ? `role '${principal.role}' lacks the permission '${access.permission}'`
            : 'this route declares no permission and is refused',
          { role: principal.role, ...(access.permission ? { permission: access.permission } : {}) },
        ),
      );
    }
    // Set only once allowed, so the response hook does not audit a denied call a second time.
    request.principal = principal;
  });

  // Mutating calls are audited once they are answered, with their outcome.
  app.addHook('onResponse', async (request, reply) => {
    if (!MUTATING.has(request.method) || !request.principal) return;
    const status = reply.statusCode;
    services.audit({
      principal: request.principal.id,
      action: actionOf(request),
      target: targetOf(request),
      outcome: status < 400 ? 'ok' : status === 403 ? 'denied' : 'error',
      details: { status },
    });
  });
}

/** The caller of a protected route; the auth hook guarantees it is set. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CaxtonError('UNAUTHENTICATED', 'no principal on this request');
  return request.principal;
}
