// Review finding: denials were aggregated per (caller, action, reason), ten written one by one per group and
// window. The actions a caller without credentials can reach are every (method, route) pair, ~76 of them with
// the "unmatched" one per method: one address cycling through them (2,142 requests in under a second) wrote 468
// denial rows at once and 502 by the window's end, ~150 rows a second sustained, which pushed every earlier
// denial (a viewer's 403 on an admin route among them) out of state.audit_denial_max_rows (100,000) in ~11
// minutes. Now a caller's first denials of a window are written one by one, and the rest counted per (caller,
// reason) with the actions tried. Against the real node's API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HTTPMethods } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'TRACE'];
const PATHS = [
  '/api/v1/agents',
  '/api/v1/agents/a',
  '/api/v1/agents/a/logs',
  '/api/v1/messages',
  '/api/v1/conversations/c',
  '/api/v1/dead-letters',
  '/api/v1/audit',
  '/api/v1/events',
  '/api/v1/cluster/members',
  '/api/v1/security/api-keys',
  '/api/v1/security/api-keys/k',
  '/api/v1/tools',
  '/mcp',
  '/api/v1/backup',
  '/nowhere',
];

describe('a caller cycling through every method and route', () => {
  it('leaves a few denial rows per window, and the earlier denials of others stay', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-denial-cycling-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'state.audit_denial_max_rows': 100 }, env: {} });
    const node = await CaxtonNode.start({ config, listen: 'inject' as unknown as boolean, gossip: false });
    cleanups.push(async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const app = node.api!;
    // A viewer tries to make itself a key: the record that matters.
    const viewer = { authorization: `Bearer ${node.createApiKey('viewer', 'curious').key}` };
    const attempt = await app.inject({ method: 'POST', url: '/api/v1/security/api-keys', headers: viewer, payload: { name: 'mine', role: 'admin' } });
    expect(attempt.statusCode).toBe(403);
    let requests = 0;
    for (let round = 0; round < 2; round++) {
      for (const method of METHODS) {
        for (const url of PATHS) {
          const res = await app.inject({ method: method as HTTPMethods, url, remoteAddress: '198.51.100.7' });
          expect([401, 429]).toContain(res.statusCode);
          requests++;
        }
      }
    }
    await app.close(); // writes what the aggregator still counts
    node.state.audit.flush();
    const denials = node.state.audit.list(100_000).filter((r) => r.outcome === 'denied');
    expect(denials.some((r) => r.principal === 'curious' && r.action === 'POST /api/v1/security/api-keys')).toBe(true);
    const flood = denials.filter((r) => r.principal === 'unauthenticated');
    // Ten as they happened, one row per reason (401, 429) for the rest.
    expect(flood.length).toBeLessThanOrEqual(12);
    expect(flood.reduce((sum, r) => sum + (typeof r.details?.count === 'number' ? r.details.count : 1), 0)).toBe(requests);
    const counted = flood.find((r) => r.details?.code === 'RATE_LIMITED' && r.details.aggregated === true)!;
    expect(counted.action).toBe('*');
    expect(counted.details).toMatchObject({ ip: '198.51.100.7' });
    expect(counted.details!.actions).toBeGreaterThan(30);
    expect(counted.details!.top_actions).toHaveLength(10);
  });
});
