// A join token admits a new node: it must not certify the id of a member that runs. Before, one token (valid
// 24 h, any number of times) gave its holder a certificate naming the CA node itself or any other live member,
// and a routing link opened with it was accepted as that member: its messages from then on were that
// member's agents' and clients' to the node it dialled, and that node's messages for the member went to it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterService } from '../../../src/cluster/cluster-service.ts';
import { enroll } from '../../../src/cluster/pki/enrollment.ts';
import { parseJoinToken } from '../../../src/cluster/pki/join-token.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { until } from './link-fixture.ts';

const running: ClusterService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop(false)));
});

async function service(id: string, flags: Record<string, unknown> = {}): Promise<ClusterService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-enroll-'));
  const config = loadConfig({ env: {}, flags: { dataDir, bindAddr: '127.0.0.1:0', apiAddr: '127.0.0.1:18080', ...flags } });
  const quiet = (): void => {};
  const s = await ClusterService.start({ config, nodeId: id, version: '9.9.9', logger: { info: quiet, warn: quiet, debug: quiet } });
  running.push(s);
  return s;
}

describe('enrollment with a join token', () => {
  it('refuses the id of a live member (the CA node, a joined node) and certifies a new one', async () => {
    const a = await service('node-a', { bootstrap: true });
    const b = await service('node-b', { join: [a.gossipAddress], token: a.createJoinToken() });
    await until(() => a.members().filter((m) => m.state === 'alive').length === 2);
    const token = parseJoinToken(a.createJoinToken())!;
    const [host, port] = [a.gossipAddress.split(':')[0], Number(a.gossipAddress.split(':')[1])];
    for (const nodeId of ['node-a', 'node-b']) {
      await expect(enroll({ host, port, token, nodeId, timeoutMs: 5000 })).rejects.toThrow(new RegExp(`node id '${nodeId}' is a live member of this cluster`));
    }
    const fresh = await enroll({ host, port, token, nodeId: 'node-c', timeoutMs: 5000 });
    expect(fresh.nodeId).toBe('node-c');
    expect(b.routing).toBeDefined();
  });
});
