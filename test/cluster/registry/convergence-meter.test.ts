// Gossip convergence measured from registry stamps: an update and its stamp pair up whichever comes
// first; a stamp is relayed once; a stale or superseded one is not; the pending writes stay bounded.
import { describe, expect, it } from 'vitest';
import { ConvergenceMeter } from '../../../src/cluster/registry/convergence-meter.ts';
import { AgentRegistry } from '../../../src/cluster/registry/agent-registry.ts';
import { RegistryGossip } from '../../../src/cluster/registry/registry-gossip.ts';
import { recordOf } from './records.ts';

const write = (name: string, lamport: number, writer = 'a') => ({ name, lamport, writer });

function meter(max?: number) {
  const samples: number[] = [];
  return { samples, m: new ConvergenceMeter((ms) => samples.push(ms), max) };
}

describe('convergence meter', () => {
  it('update first, then stamp: learnt time − written time', () => {
    const { m, samples } = meter();
    m.learnt(write('x', 3), 1_250);
    expect(m.stamped(write('x', 3), 1_000, write('x', 3))).toBe(true);
    expect(samples).toEqual([250]);
  });

  it('stamp first, then update', () => {
    const { m, samples } = meter();
    expect(m.stamped(write('x', 3), 1_000, undefined)).toBe(true);
    m.learnt(write('x', 3), 1_040);
    expect(samples).toEqual([40]);
  });

  it('a stamp heard again is not news (not relayed, not sampled twice)', () => {
    const { m, samples } = meter();
    m.learnt(write('x', 1), 10);
    expect(m.stamped(write('x', 1), 0, write('x', 1))).toBe(true);
    expect(m.stamped(write('x', 1), 0, write('x', 1))).toBe(false);
    m.learnt(write('x', 1), 99);
    expect(samples).toEqual([10]);
  });

  it('a stamp of a write already superseded is dropped', () => {
    const { m, samples } = meter();
    expect(m.stamped(write('x', 1), 0, write('x', 2, 'b'))).toBe(false);
    m.learnt(write('x', 5), 10);
    expect(m.stamped(write('x', 4), 0, undefined)).toBe(false);
    expect(samples).toEqual([]);
  });

  it('a newer write replaces an older one waiting under the same name', () => {
    const { m, samples } = meter();
    m.learnt(write('x', 1), 10);
    m.learnt(write('x', 2), 20);
    expect(m.stamped(write('x', 1), 0, undefined)).toBe(false);
    expect(m.stamped(write('x', 2), 5, undefined)).toBe(true);
    expect(samples).toEqual([15]);
  });

  it('a writer clock ahead of this node gives 0 and is counted', () => {
    const { m, samples } = meter();
    m.learnt(write('x', 1), 100);
    m.stamped(write('x', 1), 130, undefined);
    expect(samples).toEqual([0]);
    expect(m.stats).toEqual({ samples: 1, clockSkewed: 1, implausible: 0 });
  });

  it('a sample beyond ten minutes (a forged or badly wrong clock) is counted, not recorded', () => {
    const { m, samples } = meter();
    m.learnt(write('x', 1), 1_733_366_400_000);
    m.stamped(write('x', 1), 0, undefined);
    expect(samples).toEqual([]);
    expect(m.stats).toEqual({ samples: 0, clockSkewed: 0, implausible: 1 });
  });

  it('holds at most maxPending writes, forgetting the oldest', () => {
    const { m, samples } = meter(3);
    for (let i = 0; i < 10; i++) m.learnt(write(`n${i}`, 1), i);
    expect(m.held).toBe(3);
    m.stamped(write('n0', 1), 0, undefined);
    m.stamped(write('n9', 1), 0, undefined);
    expect(samples).toEqual([9]);
  });
});

describe('stamps through RegistryGossip', () => {
  function node(id: string, now: () => number, limits = {}) {
    const registry = new AgentRegistry({ nodeId: id, now: () => 0, maxRecords: 100, tombstoneTtlMs: 1000 });
    const sent: Uint8Array[] = [];
    const gossip = new RegistryGossip(registry, () => ({ maxUserPayloadBytes: 1390, sendUser: (p) => void sent.push(p) }), limits, now);
    const samples: number[] = [];
    gossip.onConvergence((ms) => samples.push(ms));
    return { registry, gossip, sent, samples };
  }

  it('a peer measures its clock when learning minus the writer clock when writing, and relays both once', () => {
    let t = 5_000;
    const a = node('a', () => t);
    const b = node('b', () => t);
    a.registry.publish(recordOf('echo', 'a'));
    t = 5_120;
    for (const p of a.sent) b.gossip.notifyMessage(p);
    expect(b.samples).toEqual([120]);
    expect(b.sent.map((p) => p[1])).toEqual([3, 5]);
    // Heard again (another peer relays them): nothing new.
    for (const p of a.sent) b.gossip.notifyMessage(p);
    expect(b.sent).toHaveLength(2);
    expect(b.gossip.stats.stampsReceived).toBe(1);
    // Its own stamp coming back to the writer is neither measured nor relayed.
    for (const p of b.sent) a.gossip.notifyMessage(p);
    expect(a.samples).toEqual([]);
    expect(a.sent).toHaveLength(2);
  });

  it('stamps have their own queue share: beyond it writes go unstamped and are counted', () => {
    const a = node('a', () => 0, { maxStampsQueued: 2 });
    for (const name of ['p', 'q', 'r', 's']) a.registry.publish(recordOf(name, 'a'));
    expect(a.sent.filter((p) => p[1] === 5)).toHaveLength(2);
    expect(a.sent.filter((p) => p[1] === 3)).toHaveLength(4);
    expect(a.gossip.stats.stampsSkipped).toBe(2);
  });
});
