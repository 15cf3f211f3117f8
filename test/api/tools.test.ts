// GET /api/v1/tools: who may read it, its answer, and what happens without a gateway.
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { ToolServerView, ToolServices } from '../../src/api/tool-services.ts';
import { bearer, makeApi } from './helpers.ts';

const memory: ToolServerView = {
  name: 'memory',
  kind: 'stdio',
  status: 'restarting',
  last_error: 'the server exited',
  retry_at: '2026-01-01T00:00:00.000Z',
  restarts: 2,
  calls_in_flight: 0,
  pid: null,
  tools: [{ name: 'read_graph', description: 'reads' }],
};

const tools: ToolServices = {
  list: (server) => {
    if (server === undefined || server === 'memory') return [memory];
    throw new CaxtonError('NOT_FOUND', `no MCP server named "${server}" in mcp.servers`);
  },
};

describe('GET /api/v1/tools', () => {
  it('answers a viewer with every server, its status and tools; one server with ?server=', async () => {
    const { app } = makeApi({ tools });
    const all = await app.inject({ url: '/api/v1/tools', headers: bearer('viewer-key') });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ servers: [memory] });
    const one = await app.inject({ url: '/api/v1/tools?server=memory', headers: bearer('viewer-key') });
    expect(one.json().servers[0].name).toBe('memory');
    expect((await app.inject({ url: '/api/v1/tools?server=nope', headers: bearer('viewer-key') })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/tools?bogus=1', headers: bearer('viewer-key') })).statusCode).toBe(400);
  });

  it('refuses a caller without a key', async () => {
    const { app } = makeApi({ tools });
    expect((await app.inject({ url: '/api/v1/tools' })).statusCode).toBe(401);
  });

  it('answers 503 when no gateway is wired', async () => {
    const { app } = makeApi();
    const res = await app.inject({ url: '/api/v1/tools', headers: bearer('viewer-key') });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('UNAVAILABLE');
  });
});
