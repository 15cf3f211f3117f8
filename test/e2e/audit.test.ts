// The audit log read back: `caxton audit list` with its filters and `caxton audit export` (JSON lines) against
// a real node, GET /api/v1/audit refused to anyone but admin.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../helpers/modules.ts';
import { runCli, startNode, tempDataDir, type NodeProcess } from '../helpers/node-process.ts';

let node: NodeProcess;
let viewerKey = '';

async function call(method: string, path: string, body?: unknown, key = node.apiKey()): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

const audit = (...args: string[]) => runCli(['--server', node.url, '--api-key', node.apiKey(), 'audit', ...args]);

beforeAll(async () => {
  // Denials past the first of a kind are counted into one row a second later.
  node = await startNode({ env: { CAXTON_API_AUDIT_WINDOW_MS: '1000', CAXTON_API_AUDIT_DENIALS_PER_WINDOW: '1' } });
  viewerKey = (await call('POST', '/api/v1/security/api-keys', { name: 'watcher', role: 'viewer' })).body.key;
  const module = Buffer.from(exampleModule('echo')).toString('base64');
  expect((await call('POST', '/api/v1/agents', { name: 'audited', module })).status).toBe(201);
  expect((await call('POST', '/api/v1/agents', { name: 'refused', module }, viewerKey)).status).toBe(403);
  expect((await call('DELETE', '/api/v1/agents/audited')).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await node?.kill('SIGKILL');
});

describe('audit list and export', { timeout: 60_000 }, () => {
  it('lists entries newest first and filters by principal, action, denied and time', async () => {
    const all = await audit('list', '--output', 'json');
    expect(all.code, all.stderr).toBe(0);
    const entries = JSON.parse(all.stdout).entries as { id: number; principal: string; action: string; outcome: string; target?: string }[];
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ principal: 'admin', action: 'POST /api/v1/agents', outcome: 'ok' }),
        expect.objectContaining({ principal: 'admin', action: 'DELETE /api/v1/agents/:name', outcome: 'ok' }),
        expect.objectContaining({ principal: 'watcher', outcome: 'denied' }),
      ]),
    );

    const denied = JSON.parse((await audit('list', '--denied', '--output', 'json')).stdout).entries as { principal: string; outcome: string }[];
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((e) => e.outcome === 'denied')).toBe(true);
    expect(denied.map((e) => e.principal)).toContain('watcher');

    const byPrincipal = JSON.parse((await audit('list', '--principal', 'watcher', '--output', 'json')).stdout).entries as { principal: string }[];
    expect(byPrincipal.length).toBeGreaterThan(0);
    expect(byPrincipal.every((e) => e.principal === 'watcher')).toBe(true);

    const deletes = JSON.parse((await audit('list', '--action', 'delete', '--output', 'json')).stdout).entries as { action: string }[];
    expect(deletes.map((e) => e.action)).toEqual(['DELETE /api/v1/agents/:name']);

    const future = await audit('list', '--since', '2999-01-01T00:00:00Z');
    expect(future.stdout).toContain('no audit entries match');
    const recent = JSON.parse((await audit('list', '--since', '10m', '--output', 'json')).stdout).entries;
    expect(recent).toHaveLength(entries.length);

    const table = await audit('list');
    expect(table.stdout).toMatch(/ID\s+TIME\s+PRINCIPAL\s+ACTION\s+TARGET\s+OUTCOME\s+COUNT\s+FROM/);
  });

  it('shows how many calls an aggregated row stands for, and where they came from', async () => {
    for (let i = 0; i < 5; i++) expect((await call('GET', '/api/v1/agents', undefined, `cxk_${'B'.repeat(43)}`)).status).toBe(401);
    // The first is written as it happens, the other four counted into one row when the window ends.
    await expect
      .poll(async () => (await audit('list', '--principal', 'unauthenticated')).stdout, { timeout: 10_000 })
      .toMatch(/unauthenticated\s+GET \/api\/v1\/agents\s+-\s+denied\s+4\s+127\.0\.0\.1/);
    expect((await audit('list', '--principal', 'unauthenticated')).stdout).toMatch(/unauthenticated\s+GET \/api\/v1\/agents\s+-\s+denied\s+1\s+127\.0\.0\.1/);
  });

  it('exports every entry oldest first as JSON lines, to a file or standard output', async () => {
    const file = join(tempDataDir('caxton-audit-'), 'audit.jsonl');
    const written = await audit('export', '--file', file);
    expect(written.code, written.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number });
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.map((e) => e.id)).toEqual([...lines.map((e) => e.id)].sort((a, b) => a - b));
    const stdout = await audit('export', '--denied');
    expect(stdout.code, stdout.stderr).toBe(0);
    const denied = stdout.stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string });
    expect(denied.every((e) => e.outcome === 'denied')).toBe(true);
  });

  it('is admin only, and a bad filter is named', async () => {
    expect((await call('GET', '/api/v1/audit', undefined, viewerKey)).status).toBe(403);
    const bad = await call('GET', '/api/v1/audit?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/since/);
    const cli = await audit('list', '--since', 'yesterday');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/--since/);
  });
});
