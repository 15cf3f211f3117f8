// Issue 10, finding 3: failed logins were never rate limited (the auth hook ran before @fastify/rate-limit), each
// 401 wrote an audit row, and the audit log is capped: 100,000 wrong-key requests in 7 s erased every earlier
// row. Every POST /api/v1/messages was an audit row too, and the only limit was per IP (one key from five
// addresses got five budgets, while one honest client was capped at 17 messages/s). Against the real node's API
// (src/node/node.ts), scaled down through its own settings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const nodes: CaxtonNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startNode(settings: Record<string, unknown> = {}): Promise<CaxtonNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-flood-'));
  dirs.push(dataDir);
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', ...settings }, env: {} });
  const node = await CaxtonNode.start({ config, listen: 'inject' as unknown as boolean, gossip: false });
  nodes.push(node);
  return node;
}

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

/** Everything the API holds back (aggregated counts) and the log buffers, written; newest first. */
async function auditRows(node: CaxtonNode) {
  await node.api!.close();
  node.state.audit.flush();
  return node.state.audit.list(100_000);
}

describe('failed authentication', () => {
  it('a flood of wrong keys no longer erases earlier audit rows', async () => {
    const node = await startNode({ 'state.audit_max_rows': 200 });
    const created = await node.api!.inject({
      method: 'POST',
      url: '/api/v1/security/api-keys',
      headers: bearer(node.state.adminKey.key),
      payload: { name: 'ci', role: 'deployer' },
    });
    expect(created.statusCode).toBe(201);
    for (let i = 0; i < 1000; i++) {
      await node.api!.inject({ url: '/api/v1/agents', headers: bearer(`cxk_wrong${i}`), remoteAddress: '10.0.0.9' });
    }
    const rows = await auditRows(node);
    expect(rows.filter((r) => r.action === 'POST /api/v1/security/api-keys' && r.target === 'ci' && r.outcome === 'ok')).toHaveLength(1);
    // A few rows tell what was tried; the rest of the flood is counted, not copied.
    const denials = rows.filter((r) => r.outcome === 'denied');
    expect(denials.length).toBeLessThan(30);
    const counted = denials.reduce((sum, r) => sum + (typeof r.details?.count === 'number' ? r.details.count : 1), 0);
    expect(counted).toBe(1000);
  });

  it('past its budget of failures a source gets 429 with Retry-After, before its credentials are looked up', async () => {
    const node = await startNode({ 'api.auth_failures_max': 5 });
    const admin = bearer(node.state.adminKey.key);
    // A client that shares the address with the guesser, and has used its key before.
    expect((await node.api!.inject({ url: '/api/v1/agents', headers: admin, remoteAddress: '10.0.0.7' })).statusCode).toBe(200);
    const lookups = vi.spyOn(node, 'authenticate');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await node.api!.inject({ url: '/api/v1/agents', headers: bearer('cxk_guess'), remoteAddress: '10.0.0.7' });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.json().error.code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
    expect(lookups).toHaveBeenCalledTimes(5);
    // Another address is not held responsible, and the known client on the blocked one keeps working.
    const other = await node.api!.inject({ url: '/api/v1/agents', headers: admin, remoteAddress: '10.0.0.8' });
    expect(other.statusCode).toBe(200);
    expect((await node.api!.inject({ url: '/api/v1/agents', headers: admin, remoteAddress: '10.0.0.7' })).statusCode).toBe(200);
    // A key never seen before from the blocked address waits like the guesser.
    const { key } = node.createApiKey('viewer', 'new-dash');
    expect((await node.api!.inject({ url: '/api/v1/agents', headers: bearer(key), remoteAddress: '10.0.0.7' })).statusCode).toBe(429);
  });

  it('a flood from ever new addresses leaves a few rows naming its addresses, not one row per address', async () => {
    const node = await startNode({ 'api.audit_denials_per_window': 5 });
    const addresses = Array.from({ length: 2000 }, (_, i) => `10.7.${i >> 8}.${i & 255}`);
    for (const remoteAddress of addresses) {
      const res = await node.api!.inject({ url: '/api/v1/agents', headers: bearer(`cxk_${'A'.repeat(43)}`), remoteAddress });
      expect(res.statusCode).toBe(401);
    }
    const denials = (await auditRows(node)).filter((r) => r.outcome === 'denied');
    // Five as they happened, then one row for the rest of the window with the ten addresses that sent most.
    expect(denials).toHaveLength(6);
    const aggregated = denials.find((r) => r.details?.aggregated === true)!;
    expect(aggregated.details).toMatchObject({ count: 1995, sources: 1995, code: 'UNAUTHENTICATED' });
    expect(aggregated.details?.top_sources).toHaveLength(10);
  });

  it('every address of one IPv6 /64 spends the same budget of failures', async () => {
    const node = await startNode({ 'api.auth_failures_max': 3 });
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const res = await node.api!.inject({ url: '/api/v1/agents', headers: bearer('cxk_guess'), remoteAddress: `2001:db8:0:7::${i.toString(16)}` });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    // The next /64 is another source.
    const next = await node.api!.inject({ url: '/api/v1/agents', headers: bearer('cxk_guess'), remoteAddress: '2001:db8:0:8::1' });
    expect(next.statusCode).toBe(401);
  });
});

describe('the audit log of routine traffic', () => {
  it('message sends are counted per principal and window, not written one row each', async () => {
    const node = await startNode();
    for (let i = 0; i < 300; i++) {
      const res = await node.api!.inject({
        method: 'POST',
        url: '/api/v1/messages',
        headers: bearer(node.state.adminKey.key),
        payload: { performative: 'inform', receiver: 'nobody', content: { i } },
      });
      expect(res.statusCode).toBe(202);
    }
    const sends = (await auditRows(node)).filter((r) => r.action === 'POST /api/v1/messages');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ principal: 'admin', outcome: 'ok', details: { aggregated: true, count: 300 } });
  });
});

describe('rate limits per principal', () => {
  it('one key from five addresses shares one budget', async () => {
    const node = await startNode({ 'api.rate_limit_max': 100, 'api.rate_limit_window_ms': 600_000 });
    const { key } = node.createApiKey('viewer', 'dash');
    let ok = 0;
    for (let i = 0; i < 250; i++) {
      const res = await node.api!.inject({ url: '/api/v1/agents', headers: bearer(key), remoteAddress: `10.0.1.${i % 5}` });
      if (res.statusCode === 200) ok++;
      else expect(res.statusCode).toBe(429);
    }
    expect(ok).toBe(100);
  });

  it('by default one client sends 2,000 messages in a burst: a messaging server is not capped at 17 messages/s', async () => {
    const node = await startNode();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const res = await node.api!.inject({
        method: 'POST',
        url: '/api/v1/messages',
        headers: bearer(node.state.adminKey.key),
        payload: { performative: 'inform', receiver: 'nobody', content: i },
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
    expect([...statuses]).toEqual([[202, 2000]]);
  });
});
