// Review finding: GET /metrics rendered every metric of the node for each request, ~3.6 ms of the API's thread
// each (measured through inject: 3.1 ms a request against 0.56 for /health), and a viewer may call it 1,000 times
// a second (its role's budget): 3.6 s of work asked per second, a stalled node for one low-privilege key. Now
// one rendering is answered again for api.metrics_cache_ms (1 s). Against the real node's API.
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

describe('GET /metrics', () => {
  it('renders at most once per api.metrics_cache_ms however often a viewer asks', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-metrics-render-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'api.metrics_cache_ms': 60_000 }, env: {} });
    const node = await CaxtonNode.start({ config, listen: 'inject' as unknown as boolean, gossip: false });
    cleanups.push(async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const registry = node.metrics.registry;
    const render = registry.metrics.bind(registry);
    let renders = 0;
    registry.metrics = () => {
      renders++;
      return render();
    };
    const viewer = { authorization: `Bearer ${node.createApiKey('viewer', 'dashboard').key}` };
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => node.api!.inject({ url: '/metrics', headers: viewer, remoteAddress: '192.0.2.10' })),
    );
    expect(answers.every((answer) => answer.statusCode === 200 && answer.body.includes('caxton_'))).toBe(true);
    expect(new Set(answers.map((answer) => answer.body)).size).toBe(1);
    expect(renders).toBe(1);
  });
});
