// A real Caxton node (a `caxton server start` process running the SWIM core) and stock `serf agent`s in
// one gossip pool, both directions, with and without -encrypt: each lists the other alive, each notices
// the other's crash, and a graceful leave shows as `left`. Needs the `serf` binary: skipped, loudly,
// when it is absent (CI installs Debian's serf).
import { afterAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../../helpers/modules.ts';
import { api, firstChange, members, startClusterNode, stopAll, waitUntil, type ClusterNode } from '../node/cluster-processes.ts';
import { freePort, SERF_BINARY, SerfAgent } from './serf-agent.ts';

if (!SERF_BINARY) {
  console.warn('\n!!! serf is not installed: SKIPPING the Serf interop tests. Install it with `apt-get install serf`. !!!\n');
}

const KEY = Buffer.alloc(32, 7).toString('base64');
const WRONG_KEY = Buffer.alloc(16, 9).toString('base64');

const agents: SerfAgent[] = [];
const nodes: ClusterNode[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await stopAll(nodes);
});

async function serf(node: string, extra: { encrypt?: string; join?: string } = {}): Promise<SerfAgent> {
  const agent = await SerfAgent.start({ node, bindPort: await freePort(), rpcPort: await freePort(), ...extra });
  agents.push(agent);
  return agent;
}

async function caxton(id: string, args: string[]): Promise<ClusterNode> {
  const node = await startClusterNode(id, args);
  nodes.push(node);
  return node;
}

const explain = (agent: SerfAgent) => (e: unknown) => {
  throw new Error(`${(e as Error).message}\n--- serf log ---\n${agent.log.slice(-4000)}`);
};

/** Waits until the Caxton node lists `id` with `state`. */
function caxtonSees(node: ClusterNode, id: string, state: string, timeoutMs = 10_000): Promise<void> {
  return waitUntil(`${node.id} to list ${id} as ${state}`, timeoutMs, async () => (await members(node)).some((m) => m.id === id && m.state === state));
}

describe.skipIf(!SERF_BINARY)('Caxton node and serf agents', () => {
  it('join both ways, see crashes both ways, see graceful leaves both ways', async () => {
    // Caxton joins serf.
    const serf1 = await serf('serf1');
    const a = await caxton('cx-a', ['--join', serf1.bindAddr]);
    const listed = await serf1.waitForMember('cx-a', 'alive').catch(explain(serf1));
    // proto: the routing protocol version; started: the process's start (cluster upgrade tells restarts by it).
    expect(listed.tags).toEqual({ caxton: '0.1.0', api: `127.0.0.1:${a.apiPort}`, proto: '1', started: expect.stringMatching(/^\d{13}$/) });
    await caxtonSees(a, 'serf1', 'alive');

    // An agent on the Caxton node: from now on its push-pull user state and gossip carry the agent
    // registry, which serf must shrug off (it logs an unknown type) without dropping or failing us.
    const deployed = await api(a, 'POST', '/api/v1/agents', { name: 'echo', module: Buffer.from(exampleModule('echo')).toString('base64') });
    expect(deployed.status).toBe(201);

    // serf joins Caxton; a second Caxton node and a third serf agent join through them.
    const serf2 = await serf('serf2', { join: `127.0.0.1:${a.gossipPort}` });
    await serf2.waitForMember('cx-a', 'alive').catch(explain(serf2));
    await caxtonSees(a, 'serf2', 'alive');
    const b = await caxton('cx-b', ['--join', `127.0.0.1:${a.gossipPort}`]);
    const serf3 = await serf('serf3', { join: `127.0.0.1:${b.gossipPort}` });
    for (const agent of [serf1, serf3]) for (const id of ['cx-a', 'cx-b']) await agent.waitForMember(id, 'alive').catch(explain(agent));
    for (const id of ['serf1', 'serf2', 'serf3', 'cx-b']) await caxtonSees(a, id, 'alive');
    expect((await members(a)).find((m) => m.id === 'serf1')?.version).toBe('unknown');
    await waitUntil('cx-b to learn the agent of cx-a', 10_000, async () => {
      const { body } = await api<{ agents: { name: string; node: string }[] }>(b, 'GET', '/api/v1/agents');
      return body.agents.some((x) => x.name === 'echo' && x.node === 'cx-a');
    });
    expect((await members(b)).find((m) => m.id === 'cx-a')?.agents).toBe(1);

    // serf leaves gracefully: Caxton lists it left, never dead.
    const leftAt = Date.now();
    await serf1.leave();
    await caxtonSees(a, 'serf1', 'left', 5000);
    expect(firstChange(a, 'serf1', 'dead', leftAt)).toBeUndefined();

    // serf crashes: both Caxton nodes declare it dead within 5 s.
    const killedAt = Date.now();
    await serf2.kill();
    await waitUntil('serf2 dead on both Caxton nodes', 6000, () => [a, b].every((n) => firstChange(n, 'serf2', 'dead', killedAt) !== undefined));

    // Caxton crashes: serf marks it failed (serf runs memberlist's LAN timing: ~5 s at this size).
    await b.kill('SIGKILL');
    await serf3.waitForMember('cx-b', 'failed', 20_000).catch(explain(serf3));

    // Caxton leaves gracefully (SIGTERM): serf lists it left.
    expect(await a.kill('SIGTERM')).toBe(0);
    await serf3.waitForMember('cx-a', 'left', 5000).catch(explain(serf3));
    expect(serf3.log).not.toMatch(/\[ERR\] memberlist/);
  }, 90_000);

  it('with -encrypt: the right key joins both ways, a serf agent with the wrong key cannot join', async () => {
    const serfE = await serf('serf-e', { encrypt: KEY });
    const c = await caxton('cx-c', ['--encrypt', KEY, '--join', serfE.bindAddr]);
    await serfE.waitForMember('cx-c', 'alive').catch(explain(serfE));
    await caxtonSees(c, 'serf-e', 'alive');

    const serfF = await serf('serf-f', { encrypt: KEY });
    await serfF.join(`127.0.0.1:${c.gossipPort}`);
    await serfF.waitForMember('cx-c', 'alive').catch(explain(serfF));
    await caxtonSees(c, 'serf-f', 'alive');

    const wrong = await serf('serf-w', { encrypt: WRONG_KEY });
    await expect(wrong.join(`127.0.0.1:${c.gossipPort}`)).rejects.toThrow();
    const plain = await serf('serf-p');
    await expect(plain.join(`127.0.0.1:${c.gossipPort}`)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 500));
    const ids = (await members(c)).map((m) => m.id);
    expect(ids).not.toContain('serf-w');
    expect(ids).not.toContain('serf-p');
    expect((await serfE.members()).map((m) => m.name)).not.toContain('serf-w');
    expect(serfE.log).not.toMatch(/Decrypt packet failed/);
  }, 60_000);
});
