// Review finding: a mutating call the client got wrong (4xx) was written to the audit log one row per call,
// including calls to no route (404) and to a method a route refuses (DELETE /mcp, 405), which any role may
// make. A viewer key at its budget of 1,000 requests a second wrote 1,000 `request` rows a second, and
// pushed every earlier row of that category out: with state.audit_max_rows at 1,000, 1,500 such calls
// (1.6 s) erased the record of an admin's purge. Now they are aggregated as denials are. And the target of a
// row was read from the body before the route checked it: a deployer's refused deploys named with 5 MB each
// wrote 5 MB rows (52.7 MB of database for 10 of them). Real node's API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('audit rows of mutating calls refused as the client mistake', () => {
  it("a low-privilege key repeating calls to no route cannot push an admin's record out of the audit log", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-audit-4xx-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'state.audit_max_rows': 1000 }, env: {} });
    const node = await CaxtonNode.start({ config, listen: 'inject' as unknown as boolean, gossip: false });
    cleanups.push(async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const app = node.api!;
    const purge = await app.inject({ method: 'DELETE', url: '/api/v1/dead-letters', headers: { authorization: `Bearer ${node.state.adminKey.key}` } });
    expect(purge.statusCode).toBe(200);
    // A sender (any role may call no route): its budget of 50,000 a second keeps this loop clear of 429s.
    const caller = { authorization: `Bearer ${node.createApiKey('sender', 'nosy').key}` };
    const calls = 1500;
    for (let i = 0; i < calls; i++) {
      const res = await app.inject(i % 2 ? { method: 'POST', url: `/api/v1/nothing/${i}`, headers: caller } : { method: 'DELETE', url: '/mcp', headers: caller });
      expect(res.statusCode).toBe(i % 2 ? 404 : 405);
    }
    await app.close(); // writes what the aggregator still counts
    node.state.audit.flush();
    const rows = node.state.audit.list(100_000);
    expect(rows.some((r) => r.principal === 'admin' && r.action === 'DELETE /api/v1/dead-letters' && r.outcome === 'ok')).toBe(true);
    const callerRows = rows.filter((r) => r.principal === 'nosy');
    expect(callerRows.length).toBeLessThanOrEqual(2 * 11);
    // Every call is still accounted for.
    expect(callerRows.reduce((sum, r) => sum + (typeof r.details?.count === 'number' ? r.details.count : 1), 0)).toBe(calls);
    expect(new Set(callerRows.map((r) => r.action))).toEqual(new Set(['POST unmatched', 'DELETE /mcp']));
  });

  it('keeps a short target however long the name a refused call gave', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-audit-target-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0' }, env: {} });
    const node = await CaxtonNode.start({ config, listen: 'inject' as unknown as boolean, gossip: false });
    cleanups.push(async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const deployer = { authorization: `Bearer ${node.createApiKey('deployer', 'ci').key}`, 'content-type': 'application/json' };
    const res = await node.api!.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: deployer,
      payload: JSON.stringify({ name: 'a'.repeat(1_000_000), module: 'AGFzbQEAAAA=' }),
    });
    expect(res.statusCode).toBe(400);
    node.state.audit.flush();
    const [row] = node.state.audit.list(100).filter((r) => r.principal === 'ci');
    expect(row).toMatchObject({ action: 'POST /api/v1/agents', outcome: 'error' });
    expect(row.target!.length).toBeLessThanOrEqual(256);
    expect(row.target!.startsWith('aaaa')).toBe(true);
  });
});
