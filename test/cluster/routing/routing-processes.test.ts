// Real node processes started as docs/operations.md says: a bootstrap node makes the CA, `caxton cluster
// token` (its API route) gives a token, two nodes join with it and get certificates; a wrong token stops a
// node with one clear line. Three nodes on one host need only distinct bind/api/data-dir (no port clash:
// routing shares the gossip port).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type NodeProcess } from '../../helpers/node-process.ts';
import { api, members, startClusterNode } from '../node/cluster-processes.ts';

const started: NodeProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.kill('SIGKILL')));
});

describe('routing TLS with real node processes', { timeout: 90_000 }, () => {
  it('bootstrap + token join: every node has TLS material, all alive; a wrong token fails in one line', async () => {
    const first = await startClusterNode('rt-0', ['--bootstrap']);
    started.push(first);
    expect(existsSync(join(first.dataDir, 'tls', 'ca.key'))).toBe(true);
    const { status, body } = await api<{ token: string }>(first, 'POST', '/api/v1/cluster/token', {});
    expect(status).toBe(200);
    const joiners = await Promise.all(
      ['rt-1', 'rt-2'].map((id) => startClusterNode(id, ['--join', `127.0.0.1:${first.gossipPort}`, '--token', body.token])),
    );
    started.push(...joiners);
    for (const n of joiners) {
      expect(existsSync(join(n.dataDir, 'tls', 'node.pem'))).toBe(true);
      expect(existsSync(join(n.dataDir, 'tls', 'ca.key'))).toBe(false);
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const rows = await members(first);
      if (rows.filter((r) => r.state === 'alive').length === 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await members(first)).filter((r) => r.state === 'alive')).toHaveLength(3);
    expect(first.output()).not.toContain('routing disabled');

    const [prefix, fingerprint] = body.token.split('.');
    const failure = await startClusterNode('rt-bad', ['--join', `127.0.0.1:${first.gossipPort}`, '--token', `${prefix}.${fingerprint}.${'A'.repeat(43)}`]).then(
      () => 'started',
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/join refused by 127\.0\.0\.1:\d+: the join token is unknown or expired/);
  });
});
