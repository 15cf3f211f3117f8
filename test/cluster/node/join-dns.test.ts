// --join by DNS name against real node processes: `localhost` is resolved (both families) and every
// address it gives is tried; a name that does not resolve beside it does not keep the node out.
import { afterAll, describe, expect, it } from 'vitest';
import { members, startClusterNode, stopAll, waitAllAlive, type ClusterNode } from './cluster-processes.ts';

describe('--join HOST by DNS name', () => {
  const nodes: ClusterNode[] = [];
  afterAll(() => stopAll(nodes), 30_000);

  it('joins through localhost:PORT and through a list where one name does not resolve', { timeout: 60_000 }, async () => {
    const first = await startClusterNode('dns-0', ['--bootstrap']);
    nodes.push(first);
    nodes.push(await startClusterNode('dns-1', ['--join', `localhost:${first.gossipPort}`]));
    // `.invalid` never resolves (RFC 6761).
    nodes.push(await startClusterNode('dns-2', ['--join', `no-such-node.invalid:7946,localhost:${first.gossipPort}`]));
    await waitAllAlive(nodes, ['dns-0', 'dns-1', 'dns-2'], 20_000);
    for (const node of nodes) {
      expect((await members(node)).filter((m) => m.state === 'alive').map((m) => m.id).sort()).toEqual(['dns-0', 'dns-1', 'dns-2']);
    }
  });
});
