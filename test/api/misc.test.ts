import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { bearer, makeApi } from './helpers.ts';

describe('conversations, dead letters, errors, OpenAPI, limits, metrics', () => {
  it('GET a conversation; an unknown one is 404 in the error shape', async () => {
    const { app } = makeApi();
    const res = await app.inject({ url: '/api/v1/conversations/c-known', headers: bearer('viewer-key') });
    expect(res.json()).toMatchObject({ conversation_id: 'c-known', protocol: 'fipa-request', state: 'done' });
    expect(res.json().messages).toHaveLength(2);
    const missing = await app.inject({ url: '/api/v1/conversations/c-x', headers: bearer('viewer-key') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('lists and purges dead letters (purge needs operator or admin)', async () => {
    const { app, services } = makeApi();
    services.deadLetterStore = [
      { id: 1, ts: 't', reason: 'AGENT_NOT_FOUND', message: { performative: 'inform', sender: 's', receiver: 'x', message_id: 'm', conversation_id: 'c' } },
    ];
    const list = await app.inject({ url: '/api/v1/dead-letters', headers: bearer('viewer-key') });
    expect(list.json().dead_letters).toHaveLength(1);
    const denied = await app.inject({ method: 'DELETE', url: '/api/v1/dead-letters', headers: bearer('deployer-key') });
    expect(denied.statusCode).toBe(403);
    const purged = await app.inject({ method: 'DELETE', url: '/api/v1/dead-letters', headers: bearer('operator-key') });
    expect(purged.json()).toEqual({ purged: 1 });
    expect(services.deadLetterStore).toHaveLength(0);
  });

  it('an unknown route is 404 NOT_FOUND in the error shape', async () => {
    const { app } = makeApi();
    const res = await app.inject({ url: '/api/v1/nope', headers: bearer() });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /api/v1/nope' } });
  });

  it('a CaxtonError from the services keeps its status and shape; anything else is a bare 500', async () => {
    const { app, services } = makeApi();
    services.listAgents = () => {
      throw new CaxtonError('READ_ONLY', 'minority partition', { alive: 1 });
    };
    const ro = await app.inject({ url: '/api/v1/agents', headers: bearer() });
    expect(ro.statusCode).toBe(503);
    expect(ro.json()).toEqual({ error: { code: 'READ_ONLY', message: 'minority partition', details: { alive: 1 } } });
    services.listAgents = () => {
      throw new Error('secret internals');
    };
    const boom = await app.inject({ url: '/api/v1/agents', headers: bearer() });
    expect(boom.statusCode).toBe(500);
    expect(boom.json().error.code).toBe('INTERNAL');
    expect(boom.body).not.toContain('secret');
  });

  it('a non-JSON content type is refused in the error shape', async () => {
    const { app } = makeApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: { ...bearer(), 'content-type': 'text/xml' },
      payload: '<x/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.details.field).toBe('content-type');
  });

  it('the OpenAPI document lists every route', async () => {
    const { app } = makeApi();
    const res = await app.inject({ url: '/api/v1/openapi.json', headers: bearer('viewer-key') });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/agents',
      '/api/v1/agents/{name}',
      '/api/v1/agents/{name}/logs',
      '/api/v1/agents/{name}/restart',
      '/api/v1/agents/{name}/rollback',
      '/api/v1/agents/{name}/start',
      '/api/v1/agents/{name}/stop',
      '/api/v1/audit',
      '/api/v1/audit/export',
      '/api/v1/backup',
      '/api/v1/cluster/leave',
      '/api/v1/cluster/members',
      '/api/v1/cluster/members/{id}/drain',
      '/api/v1/cluster/members/{id}/undrain',
      '/api/v1/cluster/performance',
      '/api/v1/cluster/status',
      '/api/v1/cluster/token',
      '/api/v1/conversations/{id}',
      '/api/v1/dead-letters',
      '/api/v1/events',
      '/api/v1/messages',
      '/api/v1/node/drain',
      '/api/v1/node/undrain',
      '/api/v1/security/api-keys',
      '/api/v1/security/api-keys/{name}',
      '/api/v1/security/keys',
      '/api/v1/security/keys/{op}',
      '/api/v1/state/export',
      '/api/v1/state/import',
      '/api/v1/state/{agent}/keys',
      '/api/v1/state/{agent}/value',
      '/api/v1/tools',
      '/health',
      '/mcp',
      '/metrics',
    ]);
    const deploy = doc.paths['/api/v1/agents'].post.requestBody.content['application/json'].schema;
    expect(deploy.required).toEqual(['name', 'module']);
    expect(deploy.properties.module.format).toBe('byte'); // OpenAPI 3.0's name for base64
  });

  it('rate limiting answers 429 RATE_LIMITED with Retry-After; /health is exempt', async () => {
    const { app } = makeApi({
      authLimits: {
        windowMs: 60_000,
        perRole: { admin: 2, operator: 2, deployer: 2, sender: 2, viewer: 2 },
        authFailuresMax: 10,
        authFailureWindowMs: 60_000,
        maxKeys: 100,
      },
    });
    for (let i = 0; i < 2; i++) await app.inject({ url: '/api/v1/agents', headers: bearer() });
    const limited = await app.inject({ url: '/api/v1/agents', headers: bearer() });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });

  it('records latency by route pattern, not raw URL, and serves it at /metrics', async () => {
    const registry = new Registry();
    const httpDuration = new Histogram({
      name: 'caxton_http_request_duration_seconds',
      help: 'HTTP latency',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    });
    const { app } = makeApi({ metricsRegistry: registry, httpDuration });
    await app.inject({ url: '/api/v1/agents/ghost', headers: bearer() });
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toContain('caxton_http_request_duration_seconds_count{method="GET",route="/api/v1/agents/:name",status="404"} 1');
    expect(text).not.toContain('ghost');
  });
});
