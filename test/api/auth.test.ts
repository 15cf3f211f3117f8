import { describe, expect, it } from 'vitest';
import { roleAllows } from '../../src/api/permissions.ts';
import { bearer, makeApi, WASM_B64 } from './helpers.ts';

describe('authentication and roles', () => {
  it('no token → 401 UNAUTHENTICATED, audited as denied', async () => {
    const { app, services } = makeApi();
    const res = await app.inject({ url: '/api/v1/agents' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
    expect(services.audits).toEqual([
      expect.objectContaining({ principal: 'unauthenticated', action: 'GET /api/v1/agents', outcome: 'denied' }),
    ]);
  });

  it('a bad token → 401', async () => {
    const { app } = makeApi();
    const res = await app.inject({ url: '/api/v1/agents', headers: bearer('nope') });
    expect(res.statusCode).toBe(401);
  });

  it('a role lacking the permission → 403 PERMISSION_DENIED, audited, nothing written', async () => {
    const { app, services } = makeApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: bearer('viewer-key'),
      payload: { name: 'x', module: WASM_B64 },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'PERMISSION_DENIED', details: { role: 'viewer' } });
    expect(services.agents.size).toBe(0);
    expect(services.audits).toEqual([
      expect.objectContaining({ principal: 'dash', action: 'POST /api/v1/agents', outcome: 'denied' }),
    ]);
  });

  it('audits every mutating call once with its outcome and target', async () => {
    const { app, services } = makeApi();
    await app.inject({ method: 'POST', url: '/api/v1/agents', headers: bearer(), payload: { name: 'a', module: WASM_B64 } });
    await app.inject({ method: 'DELETE', url: '/api/v1/agents/zz', headers: bearer() });
    await app.inject({ url: '/api/v1/agents', headers: bearer() }); // a read: not audited
    expect(services.audits).toEqual([
      expect.objectContaining({ principal: 'root', action: 'POST /api/v1/agents', outcome: 'ok' }),
      expect.objectContaining({ action: 'DELETE /api/v1/agents/:name', target: 'zz', outcome: 'error' }),
    ]);
  });

  it('role table: deny by default, each role its own area', () => {
    expect(roleAllows('admin', 'cluster:write')).toBe(true);
    expect(roleAllows('operator', 'agents:write')).toBe(true);
    expect(roleAllows('operator', 'cluster:write')).toBe(true);
    expect(roleAllows('operator', 'messages:send')).toBe(false);
    expect(roleAllows('deployer', 'agents:write')).toBe(true);
    expect(roleAllows('deployer', 'cluster:write')).toBe(false);
    expect(roleAllows('sender', 'messages:send')).toBe(true);
    expect(roleAllows('sender', 'agents:write')).toBe(false);
    expect(roleAllows('viewer', 'agents:read')).toBe(true);
    expect(roleAllows('viewer', 'messages:send')).toBe(false);
    expect(roleAllows('viewer', 'dead-letters:write')).toBe(false);
    expect(roleAllows('nobody' as 'viewer', 'agents:read')).toBe(false);
  });

  it('a route that declares no permission is refused even to admin', async () => {
    const { app } = makeApi();
    app.get('/api/v1/undeclared', async () => ({ leaked: true }));
    const res = await app.inject({ url: '/api/v1/undeclared', headers: bearer() });
    expect(res.statusCode).toBe(403);
  });

  it('insecureNoAuth: every request is anonymous admin', async () => {
    const { app, services } = makeApi({ insecureNoAuth: true });
    const res = await app.inject({ method: 'POST', url: '/api/v1/agents', payload: { name: 'a', module: WASM_B64 } });
    expect(res.statusCode).toBe(201);
    expect(services.audits[0]).toMatchObject({ principal: 'anonymous', outcome: 'ok' });
  });

  it('/health needs no token; /metrics needs none from loopback but a viewer from elsewhere', async () => {
    const { app } = makeApi();
    const health = await app.inject({ url: '/health' });
    expect(health.json()).toEqual({ status: 'ok', node: 'node-a', version: '0.1.0-test' });
    const local = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    const remote = await app.inject({ url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(401);
    const remoteViewer = await app.inject({ url: '/metrics', remoteAddress: '10.1.2.3', headers: bearer('viewer-key') });
    expect(remoteViewer.statusCode).toBe(200);
  });
});
