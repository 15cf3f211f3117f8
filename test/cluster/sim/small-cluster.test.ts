// 3- and 10-node clusters in virtual time: every assertion on time is on virtual time.
import { describe, expect, it } from 'vitest';
import { fastDetectConfig, membershipConfig } from '../../../src/cluster/membership/config.ts';
import { SimCluster } from '../../../src/cluster/sim/sim-cluster.ts';

async function cluster(size: number, seed: number, lossRate = 0): Promise<SimCluster> {
  const c = new SimCluster({ seed, config: fastDetectConfig, lossRate });
  await c.grow(size);
  const took = await c.runUntil(() => c.converged(size), 10_000);
  expect(took, 'join converges').toBeDefined();
  return c;
}

describe('simulated membership, small clusters', () => {
  it('3 nodes: join converges with everyone alive', async () => {
    const c = await cluster(3, 1);
    for (const n of c.nodes) {
      expect(n.membership.members().map((m) => [m.name, m.state]).sort()).toEqual([
        ['node-0', 'alive'],
        ['node-1', 'alive'],
        ['node-2', 'alive'],
      ]);
    }
  });

  it('same seed, same run', async () => {
    const a = await cluster(10, 42);
    const b = await cluster(10, 42);
    a.net.crash(a.nodes[4].host);
    b.net.crash(b.nodes[4].host);
    await a.net.runFor(10_000);
    await b.net.runFor(10_000);
    expect(a.deaths).toEqual(b.deaths);
    expect(a.net.eventsRun).toBe(b.net.eventsRun);
  });

  for (const size of [3, 10]) {
    it(`${size} nodes: a crash is declared dead by every other node within 5 s`, async () => {
      const times: number[] = [];
      for (let seed = 1; seed <= 8; seed++) {
        const c = await cluster(size, seed);
        const victim = c.nodes[seed % size];
        c.net.crash(victim.host);
        const took = await c.runUntil(() => c.seenDeadBy(victim.name) >= size - 1, 10_000);
        expect(took, `seed ${seed}`).toBeDefined();
        times.push(took as number);
        expect(c.deaths.filter((d) => d.target !== victim.name)).toEqual([]);
        expect(c.deaths.every((d) => d.state === 'dead')).toBe(true);
      }
      times.sort((x, y) => x - y);
      expect(times[times.length - 1]).toBeLessThan(5000);
      expect(times[Math.floor(times.length / 2)]).toBeLessThan(3000);
    });
  }

  it('a falsely suspected node refutes with a higher incarnation and stays alive', async () => {
    const c = await cluster(10, 3);
    const victim = c.nodes[5];
    const before = victim.membership.localNode.incarnation;
    // Pause it long enough to be suspected but well inside the 2 s minimum suspicion.
    c.net.pause(victim.host, 900);
    const suspected = await c.runUntil(
      () => c.nodes.some((n) => n !== victim && n.membership.member(victim.name)?.state === 'suspect'),
      5_000,
    );
    expect(suspected).toBeDefined();
    await c.net.runFor(10_000);
    expect(c.seenDeadBy(victim.name)).toBe(0);
    expect(victim.membership.localNode.incarnation).toBeGreaterThan(before);
    for (const n of c.nodes) expect(n.membership.member(victim.name)?.state).toBe('alive');
  });

  for (const size of [5, 10]) {
    it(`${size} nodes: a node paused for 2 s (a SIGSTOP) is suspected but never declared dead`, async () => {
      let suspectedRuns = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const c = await cluster(size, 300 + seed);
        await c.net.runFor((seed % 5) * 97); // pause at different points of the probe rounds
        const victim = c.nodes[seed % size];
        const start = c.net.now();
        c.net.pause(victim.host, 2000);
        const suspected = await c.runUntil(() => c.nodes.some((n) => n.membership.member(victim.name)?.state === 'suspect'), 2000);
        if (suspected !== undefined) suspectedRuns += 1;
        await c.net.runFor(10_000);
        expect(c.deaths.filter((d) => d.time >= start), `seed ${300 + seed}`).toEqual([]);
        for (const n of c.nodes) expect(n.membership.member(victim.name)?.state, `seed ${300 + seed}, ${n.name}`).toBe('alive');
      }
      expect(suspectedRuns).toBeGreaterThan(20);
    });
  }

  it('a node that hears an accusation about itself answers the accuser with its current alive', async () => {
    const c = await cluster(3, 7);
    const [accused, accuser] = c.nodes;
    const incarnation = accused.membership.localNode.incarnation;
    const sent: Array<{ to: string; first: string; count: number; incarnation?: number }> = [];
    const transport = accused.host.transport;
    const send = transport.sendPackets.bind(transport);
    transport.sendPackets = (to, messages) => {
      const [first] = messages;
      sent.push({ to: to.host, first: first.type, count: messages.length, incarnation: first.type === 'alive' && first.node === accused.name ? first.incarnation : undefined });
      send(to, messages);
    };
    // A stale accusation (an incarnation already refuted): nothing to refute, but the accuser still holds it.
    transport.deliverPackets(accuser.host.address, [{ type: 'suspect', incarnation: incarnation - 1, node: accused.name, from: accuser.name }]);
    expect(sent[0]).toEqual({ to: accuser.host.address.host, first: 'alive', count: 1, incarnation });
    expect(accused.membership.localNode.incarnation).toBe(incarnation);
    // A fresh one is refuted with a higher incarnation, broadcast and answered straight back.
    transport.deliverPackets(accuser.host.address, [{ type: 'suspect', incarnation, node: accused.name, from: accuser.name }]);
    expect(accused.membership.localNode.incarnation).toBeGreaterThan(incarnation);
    expect(sent[1]).toEqual({ to: accuser.host.address.host, first: 'alive', count: 1, incarnation: accused.membership.localNode.incarnation });
  });

  it('graceful leave: others mark the node left, not dead', async () => {
    const c = await cluster(10, 4);
    const leaver = c.nodes[2];
    const leaving = leaver.membership.leave(5_000);
    await c.net.runFor(5_000);
    await leaving;
    await leaver.membership.shutdown();
    await c.net.runFor(10_000);
    for (const n of c.nodes) {
      if (n === leaver) continue;
      expect(n.membership.member(leaver.name)?.state).toBe('left');
    }
    expect(c.deaths.filter((d) => d.target === leaver.name).every((d) => d.state === 'left')).toBe(true);
  });

  it('a partition is detected on both sides and heals (everyone alive again)', async () => {
    const c = await cluster(10, 5);
    const left = c.nodes.slice(0, 5);
    const right = c.nodes.slice(5);
    c.net.partition([left.map((n) => n.host), right.map((n) => n.host)]);
    await c.net.runFor(30_000);
    for (const n of left) for (const r of right) expect(['dead', undefined]).toContain(n.membership.member(r.name)?.state);
    for (const n of right) for (const l of left) expect(['dead', undefined]).toContain(n.membership.member(l.name)?.state);
    c.net.heal();
    const healed = await c.runUntil(() => c.converged(10), 60_000);
    expect(healed, 'partition heals').toBeDefined();
    for (const n of c.nodes) expect(n.membership.liveMembers()).toHaveLength(10);
  });

  it('10% packet loss for 10 virtual minutes: no false death with Lifeguard', async () => {
    const c = await cluster(10, 6, 0.1);
    await c.net.runFor(600_000);
    expect(c.deaths).toEqual([]);
  }, 60_000);

  it('user messages ride the gossip and meta updates reach everyone', async () => {
    const got: string[] = [];
    const c = new SimCluster({
      seed: 8,
      config: () => membershipConfig('fastDetect'),
      delegate: (name) => ({
        notifyMessage: (payload) => got.push(`${name}:${payload[0]}`),
        // Foreign or garbage state must not break the core even if the delegate throws.
        mergeRemoteState: () => {
          throw new Error('not ours');
        },
        localState: () => new Uint8Array([1, 2, 3]),
      }),
    });
    await c.grow(5);
    await c.runUntil(() => c.converged(5), 10_000);
    c.nodes[0].membership.updateMeta(new TextEncoder().encode('v2'));
    c.nodes[1].membership.sendUser(new Uint8Array([7]));
    await c.net.runFor(3_000);
    for (const n of c.nodes) expect(new TextDecoder().decode(n.membership.member('node-0')?.meta)).toBe('v2');
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((g) => g.endsWith(':7') && !g.startsWith('node-1:'))).toBe(true);
  });
});
