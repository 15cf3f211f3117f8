// The agent registry on real processes (issue 9): an agent deployed on one node is listed by every other
// with its node, the filters work, members count it, a remote agent answers GET by name, and a delete
// removes it everywhere.
import { afterAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../../helpers/modules.ts';
import { runCli, startNode, type NodeProcess } from '../../helpers/node-process.ts';
import { api, members, startCluster, startClusterNode, stopAll, waitAllAlive, waitUntil, type ClusterNode } from '../node/cluster-processes.ts';

const started: ClusterNode[] = [];
afterAll(() => stopAll(started));

interface AgentRow {
  name: string;
  node: string;
  node_state?: string;
  state: string;
  version: number;
  capabilities: string[];
  module_sha256: string;
}

const listed = async (node: ClusterNode, query = ''): Promise<AgentRow[]> =>
  (await api<{ agents: AgentRow[] }>(node, 'GET', `/api/v1/agents${query}`)).body.agents;

describe('agent registry across three real nodes', () => {
  it('deploy on one node is listed on all, filtered by node and capability, counted per member, deleted everywhere', async () => {
    const nodes = await startCluster(3, 'reg');
    started.push(...nodes);
    const [n1, n2, n3] = nodes;
    await waitAllAlive(nodes, nodes.map((n) => n.id));

    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const deployed = await api<AgentRow>(n2, 'POST', '/api/v1/agents', { name: 'echo', module, capabilities: ['echo'] });
    expect(deployed.status).toBe(201);
    const deployedAt = Date.now();
    await waitUntil('echo listed on every node', 10_000, async () => {
      const views = await Promise.all([n1, n3].map((n) => listed(n)));
      return views.every((rows) => rows.some((r) => r.name === 'echo' && r.node === n2.id));
    }, 20);
    const took = Date.now() - deployedAt;
    console.log(JSON.stringify({ figure: 'registry_convergence_3_nodes_ms', value: took }));

    for (const n of [n1, n3]) {
      const [row] = await listed(n);
      expect(row).toMatchObject({ name: 'echo', node: n2.id, node_state: 'alive', state: 'running', version: 1, capabilities: ['echo'], module_sha256: deployed.body.module_sha256 });
      expect(await listed(n, `?node=${n2.id}`)).toHaveLength(1);
      expect(await listed(n, `?node=${n.id}`)).toHaveLength(0);
      expect(await listed(n, '?capability=echo')).toHaveLength(1);
      expect(await listed(n, '?capability=other')).toHaveLength(0);
      const one = await api<AgentRow>(n, 'GET', '/api/v1/agents/echo');
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ name: 'echo', node: n2.id, state: 'running', version: 1 });
      const rows = await members(n);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.agents]))).toEqual({ [n1.id]: 0, [n2.id]: 1, [n3.id]: 0 });
    }

    expect((await api(n1, 'GET', '/api/v1/cluster/status')).body).toMatchObject({ alive: 3, agents: 1 });
    const status = await runCli(['cluster', 'status', '--server', n3.url, '--api-key', n3.apiKey()]);
    expect(status.stdout).toMatch(/agents:\s+1\n/);

    // Names are cluster-wide: n1 refuses a second 'echo'.
    const twice = await api<{ error: { code: string; details: { node: string } } }>(n1, 'POST', '/api/v1/agents', { name: 'echo', module });
    expect(twice.status).toBe(409);
    expect(twice.body.error.details.node).toBe(n2.id);

    // The system agents of n1 see the agent on n2: df by capability, ams with its node.
    const ask = async (receiver: string, content: unknown) =>
      (await api<{ replies: { performative: string; content: Record<string, unknown> }[] }>(n1, 'POST', '/api/v1/messages?wait_ms=3000', { performative: 'query-ref', receiver, content })).body.replies[0];
    expect(await ask('df', { capability: 'echo' })).toMatchObject({ performative: 'inform', content: { agents: ['echo'] } });
    expect(await ask('ams', { agent: 'echo' })).toMatchObject({ performative: 'inform', content: { agent: 'echo', state: 'running', node: n2.id } });

    // The CLI groups by node and shows the counts.
    const cli = ['--server', n1.url, '--api-key', n1.apiKey()];
    const byNode = await runCli(['agents', 'list', '--by-node', ...cli]);
    expect(byNode.code, byNode.stderr).toBe(0);
    expect(byNode.stdout).toContain(`${n2.id} (1 agent)`);
    const memberTable = await runCli(['cluster', 'members', ...cli]);
    expect(memberTable.stdout).toMatch(new RegExp(`${n2.id}\\s+127\\.0\\.0\\.1:${n2.gossipPort}\\s+alive\\s+1\\s`));

    // A state change on n2 reaches the others.
    expect((await api(n2, 'POST', '/api/v1/agents/echo/stop', {})).status).toBe(200);
    await waitUntil('stopped seen everywhere', 10_000, async () => (await Promise.all([n1, n3].map((n) => listed(n)))).every((rows) => rows[0]?.state === 'stopped'));

    const deleted = await fetch(`${n2.url}/api/v1/agents/echo`, { method: 'DELETE', headers: { authorization: `Bearer ${n2.apiKey()}` } });
    expect(deleted.status).toBe(204);
    await waitUntil('echo gone everywhere', 10_000, async () => (await Promise.all(nodes.map((n) => listed(n)))).every((rows) => rows.length === 0));
    expect((await api(n1, 'GET', '/api/v1/agents/echo')).status).toBe(404);
    expect((await members(n3)).every((r) => r.agents === 0)).toBe(true);

    // A node that leaves keeps its agents listed (a later failover needs them), marked with its state.
    expect((await api(n3, 'POST', '/api/v1/agents', { name: 'keeper', module })).status).toBe(201);
    await waitUntil('keeper listed on n1', 10_000, async () => (await listed(n1)).some((r) => r.name === 'keeper'), 20);
    expect(await n3.kill('SIGTERM')).toBe(0);
    await waitUntil('n3 left, its agent kept', 10_000, async () => (await listed(n1)).some((r) => r.name === 'keeper' && r.node_state === 'left'));
    expect((await members(n1)).find((r) => r.id === n3.id)).toMatchObject({ state: 'left', agents: 1 });
  }, 60_000);

  it('a crashed node keeps its agents listed as dead; restarted, its new changes win over its old records', async () => {
    const a = await startClusterNode('rs-a', ['--bootstrap']);
    started.push(a);
    const b = await startClusterNode('rs-b', ['--join', `127.0.0.1:${a.gossipPort}`]);
    started.push(b);
    await waitAllAlive([a, b], [a.id, b.id]);
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    expect((await api(b, 'POST', '/api/v1/agents', { name: 'echo', module })).status).toBe(201);
    // Several writes, so that b's old records carry Lamport times its restarted clock starts far below.
    for (const action of ['stop', 'start', 'stop', 'start']) expect((await api(b, 'POST', `/api/v1/agents/echo/${action}`, {})).status).toBe(200);
    await waitUntil('echo running on b, seen by a', 10_000, async () => (await listed(a))[0]?.state === 'running');
    // 'running' is also what the first write said: wait until a has heard b's last write before b crashes.
    const bLamport = await figure(b, 'registry_lamport');
    await waitUntil('every write of b heard by a', 10_000, async () => (await figure(a, 'registry_lamport')) >= bLamport);

    await b.kill('SIGKILL');
    await waitUntil('b dead, echo kept', 15_000, async () => (await listed(a))[0]?.node_state === 'dead');

    const again = Object.assign(
      await startNode({ dataDir: b.dataDir, apiPort: b.apiPort, gossipPort: b.gossipPort, nodeId: b.id, args: ['--join', `127.0.0.1:${a.gossipPort}`], env: { CAXTON_LOG_LEVEL: 'info' } }),
      { id: b.id },
    );
    started.push(again);
    await waitAllAlive([a, again], [a.id, again.id], 15_000);
    await waitUntil('echo alive again on a', 10_000, async () => (await listed(a))[0]?.node_state === 'alive');
    // Its old records came back to it by push-pull, newer than its restarted clock: it refuted them.
    expect(await figure(again, 'registry_stale_entries_refuted')).toBeGreaterThanOrEqual(1);
    expect((await api(again, 'POST', '/api/v1/agents/echo/stop', {})).status).toBe(200);
    await waitUntil('the restarted node’s stop seen on a', 10_000, async () => (await listed(a))[0]?.state === 'stopped');
    // And it stays so: no old record of b comes back through push-pull.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await listed(a))[0]).toMatchObject({ name: 'echo', node: b.id, state: 'stopped', node_state: 'alive' });
  }, 90_000);
});

async function figure(node: NodeProcess, name: string): Promise<number> {
  const figures = (await api<{ figures: { name: string; value: number }[] }>(node, 'GET', '/api/v1/cluster/performance')).body.figures;
  return figures.find((f) => f.name === name)?.value ?? 0;
}
