// Five real Caxton processes on loopback (cluster.md): a crashed (SIGKILLed) node is dead on every other
// within 5 s; a paused (SIGSTOPped) node is suspected but refutes and is never declared dead; a graceful
// stop (SIGTERM) shows as `left`; the gossip key rotates across all five with no member lost.
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/node-process.ts';
import { api, firstChange, memberChanges, memberEventStream, members, startCluster, stopAll, waitAllAlive, waitUntil, type ClusterNode } from './cluster-processes.ts';

const started: ClusterNode[] = [];
afterAll(() => stopAll(started));

const KEY1 = Buffer.alloc(32, 1).toString('base64');
const KEY2 = Buffer.alloc(32, 2).toString('base64');

describe('five real nodes', () => {
  it('join, SIGSTOP 2 s is refuted, SIGKILL is dead everywhere within 5 s, SIGTERM is left', async () => {
    const nodes = await startCluster(5, 'five');
    started.push(...nodes);
    const ids = nodes.map((n) => n.id);
    await waitAllAlive(nodes, ids);

    // Pause one node for 2 s: the others suspect it, it refutes on resuming, nobody declares it dead.
    const paused = nodes[1];
    const pausedAt = Date.now();
    paused.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2000));
    paused.child.kill('SIGCONT');
    await waitAllAlive(nodes, ids, 5000);
    await new Promise((r) => setTimeout(r, 1500));
    for (const n of nodes) {
      const timeline = memberChanges(n).filter((c) => c.member === paused.id && c.at >= pausedAt).map((c) => `${c.state}@${c.at - pausedAt}ms`);
      expect(firstChange(n, paused.id, 'dead', pausedAt), `${n.id} declared the paused node dead: ${timeline.join(' ')}`).toBeUndefined();
    }

    // Crash one: every other node logs it dead within 5 s of the SIGKILL, and says so on its event stream.
    const victim = nodes[2];
    const stream = memberEventStream(nodes[0]);
    await new Promise((r) => setTimeout(r, 200));
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const others = nodes.filter((n) => n !== victim);
    await waitUntil('the crash to be seen everywhere', 6000, () => others.every((n) => firstChange(n, victim.id, 'dead', killedAt) !== undefined));
    const took = others.map((n) => firstChange(n, victim.id, 'dead', killedAt)! - killedAt);
    expect(Math.max(...took)).toBeLessThan(5000);
    await waitUntil('the dead event', 2000, () => stream.events.some((e) => e.id === victim.id && e.state === 'dead'));
    stream.close();
    expect(stream.events.find((e) => e.id === victim.id && e.state === 'dead')).toMatchObject({ address: `127.0.0.1:${victim.gossipPort}`, version: '0.1.0' });
    // No false positive anywhere, during the whole test.
    for (const n of others) expect(memberChanges(n).filter((c) => c.state === 'dead' && c.member !== victim.id)).toEqual([]);

    // Status: 4 of 5 alive, quorum 3, still read-write; the CLI shows the same.
    const status = await api<{ health: string; mode: string; alive: number; expected: number; quorum: number }>(nodes[0], 'GET', '/api/v1/cluster/status');
    expect(status.body).toEqual({ health: 'degraded', mode: 'read-write', alive: 4, expected: 5, quorum: 3, agents: 0 });
    const cli = await runCli(['cluster', 'members', '--server', nodes[0].url, '--api-key', nodes[0].apiKey()]);
    expect(cli.stdout).toMatch(new RegExp(`${victim.id}\\s+127\\.0\\.0\\.1:${victim.gossipPort}\\s+dead`));

    // Graceful stop: the others see `left`, not dead.
    const leaver = nodes[3];
    const leftAt = Date.now();
    expect(await leaver.kill('SIGTERM')).toBe(0);
    const rest = others.filter((n) => n !== leaver);
    await waitUntil('the leave to be seen', 3000, () => rest.every((n) => firstChange(n, leaver.id, 'left', leftAt) !== undefined));
    for (const n of rest) expect(firstChange(n, leaver.id, 'dead', leftAt)).toBeUndefined();
    const rows = await members(nodes[0]);
    expect(rows.find((r) => r.id === leaver.id)?.state).toBe('left');
    expect(rows.every((r) => r.version === '0.1.0')).toBe(true);
  }, 60_000);

  it('rotates the gossip key across five encrypted nodes with no member lost', async () => {
    const nodes = await startCluster(5, 'keys', ['--encrypt', KEY1]);
    started.push(...nodes);
    const ids = nodes.map((n) => n.id);
    await waitAllAlive(nodes, ids);
    const since = Date.now();

    const admin = ['--server', nodes[2].url, '--api-key', nodes[2].apiKey(), '--output', 'json'];
    for (const step of [['install', KEY2], ['use', KEY2], ['remove', KEY1]]) {
      const out = await runCli(['security', 'keys', ...step, ...admin]);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ op: step[0], members: 5, applied: 5, failed: [] });
    }
    const list = await api<{ keys: { key: string; installed: number; primary: number }[] }>(nodes[0], 'GET', '/api/v1/security/keys');
    expect(list.body.keys).toEqual([{ key: KEY2, installed: 5, primary: 5 }]);
    // Removing the primary is refused.
    expect((await api(nodes[0], 'POST', '/api/v1/security/keys/remove', { key: KEY2 })).status).toBe(409);

    // Still one cluster on the new key: everyone alive, nobody was ever suspected dead.
    await new Promise((r) => setTimeout(r, 1500));
    await waitAllAlive(nodes, ids, 3000);
    for (const n of nodes) expect(memberChanges(n).filter((c) => c.at >= since && c.state !== 'alive')).toEqual([]);
  }, 60_000);
});
