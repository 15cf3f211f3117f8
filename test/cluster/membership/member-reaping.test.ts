// Security review, finding 2: a peer without the gossip key (the default) could grow the member table without
// end. Each datagram of alive(name) + dead(node = name, from = name) pairs for fresh names left that many
// `left` members, which were never reaped (250 datagrams: 10,000 members, all still there after 10x the reap
// interval). Now dead and left members are reaped gossipToTheDeadTime after they went, as memberlist's
// resetNodes does, the table holds at most maxMembers, and the dead kept for reconnecting are capped too.
// Everything runs in virtual time (the simulator, or the core with a hand-moved clock).
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/cluster/membership/clock.ts';
import { DEFAULT_VSN, membershipConfig, type MembershipConfig } from '../../../src/cluster/membership/config.ts';
import { Core } from '../../../src/cluster/membership/core.ts';
import { aliveNode, deadNode } from '../../../src/cluster/membership/member-updates.ts';
import type { Alive, Dead, PacketMessage, Vsn } from '../../../src/cluster/membership/messages.ts';
import type { MessageTransport } from '../../../src/cluster/membership/transport.ts';
import { SimCluster, type SimNode } from '../../../src/cluster/sim/sim-cluster.ts';

const FAKE_PEER = { host: '10.250.0.1', port: 7946 };

/** An alive for a name no simulated host answers to. */
function fakeAlive(i: number): Alive {
  return { type: 'alive', incarnation: 1, node: `fake-${i}`, addr: Uint8Array.of(10, 200, (i >> 8) & 255, i & 255), port: 7946, meta: new Uint8Array(0), vsn: [...DEFAULT_VSN] as Vsn };
}

function joinAndLeave(i: number): PacketMessage[] {
  const dead: Dead = { type: 'dead', incarnation: 1, node: `fake-${i}`, from: `fake-${i}` };
  return [fakeAlive(i), dead];
}

async function cluster(size: number, seed: number, config: () => MembershipConfig): Promise<SimCluster> {
  const c = new SimCluster({ seed, config });
  await c.grow(size);
  expect(await c.runUntil(() => c.converged(size), 10_000), 'join converges').toBeDefined();
  return c;
}

const states = (n: SimNode): string[] => n.membership.members().map((m) => m.state);

describe('dead and left members are reaped', () => {
  it('a flood of names that join and leave is forgotten gossipToTheDeadTime later, on every node', async () => {
    const config = () => membershipConfig('fastDetect');
    const c = await cluster(3, 7, config);
    const [target] = c.nodes;
    for (let i = 0; i < 400; i++) target.host.transport.deliverPackets(FAKE_PEER, joinAndLeave(i));
    expect(states(target).filter((s) => s === 'left')).toHaveLength(400);

    // Reaping happens at the end of a probe round after gossipToTheDeadTime: a few rounds later, all gone.
    await c.net.runFor(config().gossipToTheDeadTimeMs + 10_000);
    for (const n of c.nodes) {
      expect(n.membership.members().map((m) => [m.name, m.state]).sort()).toEqual([
        ['node-0', 'alive'],
        ['node-1', 'alive'],
        ['node-2', 'alive'],
      ]);
    }
  });

  it('a graceful leave is listed as left, then forgotten like memberlist forgets it', async () => {
    const config = () => membershipConfig('fastDetect');
    const c = await cluster(4, 3, config);
    const leaver = c.nodes[3];
    const leaving = leaver.membership.leave(5_000);
    await c.net.runFor(2_000);
    await leaving;
    await leaver.membership.shutdown();
    for (const n of c.nodes.slice(0, 3)) expect(n.membership.member(leaver.name)?.state).toBe('left');
    await c.net.runFor(config().gossipToTheDeadTimeMs + 10_000);
    for (const n of c.nodes.slice(0, 3)) {
      expect(n.membership.member(leaver.name)).toBeUndefined();
      expect(n.membership.localNode.state).toBe('alive');
    }
  });
});

describe('the member table is bounded', () => {
  it('holds at most maxMembers; new names are refused until the dead are reaped, then a real node joins', async () => {
    const config = () => membershipConfig('fastDetect', { maxMembers: 20 });
    const c = await cluster(3, 11, config);
    const [target] = c.nodes;
    for (let i = 0; i < 100; i++) target.host.transport.deliverPackets(FAKE_PEER, [fakeAlive(i)]);
    expect(target.membership.members()).toHaveLength(20);
    expect(target.membership.membersRefused).toBe(83);

    // The fakes answer no probe: suspected, declared dead, reaped. Meanwhile no node ever holds more than 20.
    let most = 0;
    const gone = await c.runUntil(() => {
      for (const n of c.nodes) most = Math.max(most, n.membership.members().length);
      return c.nodes.every((n) => n.membership.members().length === 3);
    }, 120_000, 100);
    expect(gone, 'the fakes are reaped').toBeDefined();
    expect(most).toBeLessThanOrEqual(20);

    await c.grow(1);
    expect(await c.runUntil(() => c.converged(4), 10_000), 'a node joins once there is room').toBeDefined();
  });

  it('keeps the live count the layer above reads equal to the live members, through joins, deaths and leaves', async () => {
    const c = await cluster(6, 5, () => membershipConfig('fastDetect'));
    c.net.crash(c.nodes[5].host);
    const leaving = c.nodes[4].membership.leave(5_000);
    await c.net.runFor(10_000);
    await leaving;
    for (let i = 0; i < 10; i++) c.nodes[0].host.transport.deliverPackets(FAKE_PEER, joinAndLeave(i));
    await c.net.runFor(30_000);
    for (const n of c.nodes.slice(0, 4)) {
      expect(n.membership.liveCount).toBe(n.membership.liveMembers().length);
      expect(n.membership.liveCount).toBe(n.live);
    }
    expect(c.nodes[0].membership.liveCount).toBe(4);
  });
});

describe('the dead kept for reconnecting are bounded', () => {
  it('holds at most maxMembers of them, the oldest forgotten first', () => {
    const now = { t: 0 };
    const clock: Clock = { now: () => now.t, setTimer: () => 0, clearTimer: () => {} };
    const transport: MessageTransport = {
      localAddress: { host: '127.0.0.1', port: 7946 },
      maxPacketBytes: 1400,
      messageSize: () => 64,
      sendPackets: () => {},
      onPackets: () => {},
      pushPull: () => Promise.reject(new Error('offline')),
      onPushPull: () => {},
      streamPing: () => Promise.resolve(false),
      onStreamMessage: () => {},
      close: () => Promise.resolve(),
    };
    const config = membershipConfig('fastDetect', { maxMembers: 10 });
    const core = new Core({ config, name: 'self', transport, clock, random: () => 0.5, logger: { debug() {}, info() {}, warn() {} }, events: {}, delegate: {} });
    aliveNode(core, { ...fakeAlive(9999), node: 'self' }, true);
    let n = 0;
    for (let round = 0; round < 20; round++) {
      // Five names declared dead by someone else (a failure, not a leave)...
      for (let i = 0; i < 5; i++, n++) {
        aliveNode(core, fakeAlive(n), false);
        deadNode(core, { type: 'dead', incarnation: 1, node: `fake-${n}`, from: 'someone' });
      }
      // ...then reaped from the table at the end of a probe round after gossipToTheDeadTime.
      now.t += config.gossipToTheDeadTimeMs + 1;
      for (let i = 0; i < 10; i++) core.table.nextProbeTarget('self', now.t, config.gossipToTheDeadTimeMs, () => {});
      expect(core.table.size).toBe(1);
    }
    expect(core.failed.size).toBe(10);
    expect([...core.failed.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => `fake-${90 + i}`));
  });
});
