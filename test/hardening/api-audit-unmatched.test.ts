// Review finding: the audit action of a request to no route was its raw URL, so requests without credentials to
// ever new long URLs were each a group of their own in the audit aggregator, each written as its own row as long
// as the URL (3,000 requests of 15 KB: ≥1,000 rows, +47 MB heap). Against the real node's API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const nodes: CaxtonNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startNode(): Promise<CaxtonNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-unmatched-'));
  dirs.push(dataDir);
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0' }, env: {} });
  const node = await CaxtonNode.start({ config, listen: 'inject' as unknown as boolean, gossip: false });
  nodes.push(node);
  return node;
}

/** Every row, the aggregated counts the API still holds included; newest first. */
async function auditRows(node: CaxtonNode) {
  await node.api!.close();
  node.state.audit.flush();
  return node.state.audit.list(100_000);
}

describe('audit of requests to no route', () => {
  it('many distinct long unmatched URLs without credentials leave a bounded number of short rows', async () => {
    const node = await startNode();
    const pad = 'a'.repeat(2000);
    const requests = 300;
    for (let i = 0; i < requests; i++) {
      const res = await node.api!.inject({ url: `/api/v1/x${i}${pad}`, remoteAddress: `10.1.${i >> 8}.${i & 255}` });
      expect(res.statusCode).toBe(401);
    }
    const denials = (await auditRows(node)).filter((r) => r.outcome === 'denied');
    expect(denials.length).toBeLessThan(30);
    expect(new Set(denials.map((r) => r.action))).toEqual(new Set(['GET unmatched']));
    const counted = denials.reduce((sum, r) => sum + (typeof r.details?.count === 'number' ? r.details.count : 1), 0);
    expect(counted).toBe(requests);
  });

  it('an authenticated call to no route is audited under the same short action', async () => {
    const node = await startNode();
    const res = await node.api!.inject({
      method: 'POST',
      url: `/api/v1/nothing-here/${'b'.repeat(2000)}`,
      headers: { authorization: `Bearer ${node.state.adminKey.key}` },
    });
    expect(res.statusCode).toBe(404);
    const rows = (await auditRows(node)).filter((r) => r.outcome !== 'ok' || r.action.includes('nothing'));
    expect(rows.map((r) => r.action)).toEqual(['POST unmatched']);
  });
});
