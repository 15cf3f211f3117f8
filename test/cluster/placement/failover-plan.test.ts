// The pure failover rules (src/cluster/placement/failover-plan.ts): who takes over, who yields, who waits.
import { describe, expect, it } from 'vitest';
import { failoverPolicyOf, keeperOf, needsConfirmation, ownerAfterLoss, planFailover, quorumConfirmed, standbyModules, takeOverMode } from '../../../src/cluster/placement/failover-plan.ts';
import { rendezvousOwner } from '../../../src/cluster/placement/rendezvous.ts';
import type { AgentRecord } from '../../../src/cluster/registry/agent-record.ts';
import { decodeUpdate, encodeUpdate } from '../../../src/cluster/registry/registry-codec.ts';

const record = (name: string, node: string, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  name,
  node,
  version: 3,
  module_sha256: 'cd'.repeat(32),
  capabilities: ['echo'],
  state: 'running',
  limits: { memory_pages: 16, fuel: 1000, mailbox: 8 },
  ...extra,
});

const NODES = ['a', 'b', 'c', 'd', 'e'];

describe('failover plan', () => {
  it('defaults: move unpinned, wait pinned; the spec may say otherwise', () => {
    expect(failoverPolicyOf({})).toBe('move');
    expect(failoverPolicyOf({ pinned: 'a' })).toBe('wait');
    expect(failoverPolicyOf({ pinned: 'a', failover: 'move' })).toBe('move');
    expect(failoverPolicyOf({ failover: 'wait' })).toBe('wait');
  });

  it('the agents of a dead node start on exactly one survivor, the rendezvous owner among the alive', () => {
    const records = Array.from({ length: 50 }, (_, i) => record(`agent-${i}`, 'e'));
    const alive = ['a', 'b', 'c', 'd'];
    const takers = new Map<string, string[]>();
    for (const self of alive) {
      const actions = planFailover({ self, mode: 'read-write', alive, gone: (n) => n === 'e', records, runsHere: () => false });
      for (const a of actions) {
        expect(a.kind).toBe('take-over');
        if (a.kind === 'take-over') takers.set(a.record.name, [...(takers.get(a.record.name) ?? []), self]);
      }
    }
    for (const r of records) expect(takers.get(r.name)).toEqual([rendezvousOwner(r.name, alive)]);
  });

  it('a read-only side takes over nothing; a pinned agent waits unless it says move', () => {
    const records = [record('free', 'e'), record('pinned', 'e', { pinned: 'e' }), record('mover', 'e', { pinned: 'e', failover: 'move' })];
    const all = (mode: 'read-write' | 'read-only') =>
      ['a', 'b', 'c', 'd'].flatMap((self) => planFailover({ self, mode, alive: ['a', 'b', 'c', 'd'], gone: (n) => n === 'e', records, runsHere: () => false }));
    expect(all('read-only')).toEqual([]);
    expect(
      all('read-write')
        .map((a) => (a.kind === 'take-over' ? a.record.name : ''))
        .sort(),
    ).toEqual(['free', 'mover']);
    expect(ownerAfterLoss(records[1], ['a'])).toBeUndefined();
  });

  it('two copies on alive nodes: the keeper is the pin, else the rendezvous owner of the pair; the same from both sides', () => {
    for (let i = 0; i < 40; i++) {
      const name = `dup-${i}`;
      const keeper = keeperOf({ name }, 'a', 'b');
      expect(keeper).toBe(keeperOf({ name }, 'b', 'a'));
      // a runs it, the registry says b: a yields or reclaims, and b (when the registry says a) does the opposite.
      const fromA = planFailover({ self: 'a', mode: 'read-only', alive: NODES, gone: () => false, records: [record(name, 'b')], runsHere: () => true });
      const fromB = planFailover({ self: 'b', mode: 'read-only', alive: NODES, gone: () => false, records: [record(name, 'a')], runsHere: () => true });
      expect(fromA[0].kind).toBe(keeper === 'a' ? 'reclaim' : 'yield');
      expect(fromB[0].kind).toBe(keeper === 'b' ? 'reclaim' : 'yield');
    }
    expect(keeperOf({ name: 'x', pinned: 'b' }, 'a', 'b')).toBe('b');
  });

  it('an agent running here whose record names a dead node is claimed on a side with quorum, never on a read-only side', () => {
    const input = { self: 'a', alive: ['a', 'b', 'c'], gone: (n: string) => n === 'e', records: [record('x', 'e')], runsHere: () => true };
    const claims = planFailover({ ...input, mode: 'read-write' });
    expect(claims).toEqual([{ kind: 'claim', name: 'x', other: 'e' }]);
    expect(needsConfirmation(claims[0])).toBe(true);
    // Cut off, or not yet seeing that the other side is back: its copy serves here and overwrites nothing.
    expect(planFailover({ ...input, mode: 'read-only' })).toEqual([]);
  });

  it('healing: whatever each side believes of the other, once both see each other exactly one copy yields', () => {
    // Two copies of every agent, on a (majority, took it over) and d (minority, kept it); each registry names
    // either node, each node may still see the other gone. When both see each other alive, the pair alone
    // decides; a side that still sees the other gone claims only with quorum, and never yields.
    for (let i = 0; i < 200; i++) {
      const name = `heal-${i}`;
      const pinned = i % 7 === 0 ? 'd' : i % 11 === 0 ? 'a' : undefined;
      const keeper = keeperOf({ name, pinned }, 'a', 'd');
      for (const registryAtA of ['a', 'd'])
        for (const registryAtD of ['a', 'd']) {
          const plan = (self: string, named: string) =>
            planFailover({ self, mode: self === 'a' ? 'read-write' : 'read-only', alive: NODES, gone: () => false, records: [record(name, named, { pinned })], runsHere: () => true });
          const actions = [...plan('a', registryAtA).map((x) => ({ ...x, by: 'a' })), ...plan('d', registryAtD).map((x) => ({ ...x, by: 'd' }))];
          // Only the non-keeper yields, only to the keeper; only the keeper publishes itself again.
          for (const x of actions) {
            if (x.kind === 'yield') expect([x.by, x.keeper]).toEqual([keeper === 'a' ? 'd' : 'a', keeper]);
            else expect([x.kind, x.by]).toEqual(['reclaim', keeper]);
          }
          // Once both registries name the same node, exactly one node acts: the other copy yields, or the
          // keeper publishes itself and the other copy yields when that arrives.
          if (registryAtA === registryAtD) expect(actions).toHaveLength(1);
        }
      expect(planFailover({ self: 'd', mode: 'read-only', alive: ['d', 'e'], gone: (n) => n === 'a', records: [record(name, 'a', { pinned })], runsHere: () => true })).toEqual([]);
    }
  });

  it('take-overs need a quorum of unsuspected members and of answered round trips', () => {
    expect(takeOverMode({ mode: 'read-write', quorum: 3 }, 3)).toBe('read-write');
    expect(takeOverMode({ mode: 'read-write', quorum: 3 }, 2)).toBe('read-only');
    expect(takeOverMode({ mode: 'read-only', quorum: 3 }, 5)).toBe('read-only');
    expect(quorumConfirmed(2, 3)).toBe(true);
    expect(quorumConfirmed(1, 3)).toBe(false);
  });

  it('standby modules: a node holds the modules of the agents it would take over, and only those', () => {
    const records = Array.from({ length: 30 }, (_, i) => record(`s-${i}`, NODES[i % 5], { module_sha256: i.toString(16).padStart(64, '0') }));
    const held = new Map(NODES.map((n) => [n, standbyModules(n, NODES, records)]));
    for (const r of records) {
      const standby = ownerAfterLoss(r, NODES.filter((n) => n !== r.node))!;
      expect(held.get(standby)!.has(r.module_sha256)).toBe(true);
      for (const n of NODES) if (n !== standby) expect(held.get(n)!.has(r.module_sha256)).toBe(false);
    }
  });

  it('the registry carries the failover policy only when the spec names it, and reads both forms', () => {
    const plain = record('p', 'a');
    const explicit = record('q', 'a', { pinned: 'a', failover: 'move' });
    expect(decodeUpdate(encodeUpdate({ name: 'p', lamport: 1, writer: 'a', record: plain }))?.record).toEqual(plain);
    expect(decodeUpdate(encodeUpdate({ name: 'q', lamport: 1, writer: 'a', record: explicit }))?.record).toEqual(explicit);
    expect(decodeUpdate(encodeUpdate({ name: 'q', lamport: 1, writer: 'a', record: { ...explicit, failover: 'later' as never } }))).toBeUndefined();
  });
});
