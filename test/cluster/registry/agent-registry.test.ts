// The registry's merge rules (LWW by (lamport, writer), tombstones, refutation of a restarted node's stale
// writes) and its bounds; the merge laws as fast-check properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../../src/cluster/registry/agent-registry.ts';
import { decodeState, decodeUpdate, encodeUpdate } from '../../../src/cluster/registry/registry-codec.ts';
import { compareEntries, mergeEntries, type RegistryEntry } from '../../../src/cluster/registry/registry-entry.ts';
import { recordOf } from './records.ts';

function registry(nodeId: string, now = { t: 0 }, maxRecords = 1000): AgentRegistry {
  return new AgentRegistry({ nodeId, now: () => now.t, maxRecords, tombstoneTtlMs: 1000 });
}

/** Wires registries as a perfect network: every write reaches every other one. */
function connect(...registries: AgentRegistry[]): void {
  for (const r of registries) r.onSpread((_e, payload) => registries.filter((o) => o !== r).forEach((o) => o.receiveUpdate(payload)));
}

const names = fc.constantFrom('a', 'b', 'c');
const writers = fc.constantFrom('n1', 'n2', 'n3');
const entryArb: fc.Arbitrary<RegistryEntry> = fc
  .record({
    name: names,
    lamport: fc.integer({ min: 1, max: 5 }),
    writer: writers,
    state: fc.option(fc.constantFrom('running' as const, 'stopped' as const), { nil: null }),
  })
  .map(({ name, lamport, writer, state }) => ({ name, lamport, writer, record: state && recordOf(name, writer, { state }) }));

const sameName = entryArb.map((e) => ({ ...e, name: 'a', record: e.record && { ...e.record, name: 'a' } }));

describe('LWW merge laws', () => {
  it('mergeEntries is commutative, associative and idempotent', () => {
    fc.assert(
      // Writes of one name (the map merges per name).
      fc.property(sameName, sameName, sameName, (a, b, c) => {
        expect(mergeEntries(a, b)).toEqual(mergeEntries(b, a));
        expect(mergeEntries(mergeEntries(a, b), c)).toEqual(mergeEntries(a, mergeEntries(b, c)));
        expect(mergeEntries(a, a)).toEqual(a);
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it('registries that receive the same entries in any order, any number of times, agree', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 12 }), fc.infiniteStream(fc.nat()), (entries, randoms) => {
        const a = registry('observer-a');
        const b = registry('observer-b');
        for (const e of entries) a.merge(e);
        const shuffled = [...entries, ...entries].map((e) => ({ e, k: randoms.next().value as number })).sort((x, y) => x.k - y.k);
        for (const { e } of shuffled) b.merge(e);
        expect(b.list()).toEqual(a.list());
        expect(b.countByNode()).toEqual(a.countByNode());
      }),
      { numRuns: 300, seed: 10 },
    );
  });

  it('orders by lamport, then by writer', () => {
    const e = (lamport: number, writer: string): RegistryEntry => ({ name: 'a', lamport, writer, record: null });
    expect(compareEntries(e(2, 'a'), e(1, 'z'))).toBeGreaterThan(0);
    expect(compareEntries(e(1, 'b'), e(1, 'a'))).toBeGreaterThan(0);
    expect(compareEntries(e(1, 'a'), e(1, 'a'))).toBe(0);
  });
});

describe('AgentRegistry', () => {
  it('publish, change, withdraw: every peer follows, onChange reports current and previous', () => {
    const [n1, n2] = [registry('n1'), registry('n2')];
    connect(n1, n2);
    const changes: unknown[] = [];
    n2.onChange((name, current, previous) => changes.push([name, current?.state, previous?.state]));
    n1.publish(recordOf('echo', 'n1'));
    n1.publish(recordOf('echo', 'n1')); // unchanged: no write
    n1.publish(recordOf('echo', 'n1', { state: 'stopped' }));
    expect(n2.get('echo')).toMatchObject({ node: 'n1', state: 'stopped' });
    expect(n2.countByNode()).toEqual(new Map([['n1', 1]]));
    n1.withdraw('echo');
    expect(n2.get('echo')).toBeUndefined();
    expect(n2.countByNode()).toEqual(new Map());
    expect(changes).toEqual([
      ['echo', 'running', undefined],
      ['echo', 'stopped', 'running'],
      ['echo', undefined, 'stopped'],
    ]);
    expect(n1.stats().lamport).toBe(3);
  });

  it('refuses to publish another node’s agent or a record out of bounds', () => {
    const n1 = registry('n1');
    expect(() => n1.publish(recordOf('echo', 'n2'))).toThrow(/own agents/);
    expect(() => n1.publish(recordOf('echo', 'n1', { module_sha256: 'xyz' }))).toThrow(/module_sha256/);
    expect(() => n1.publish(recordOf('echo', 'n1', { capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) }))).toThrow(/capabilities/);
    expect(n1.list()).toEqual([]);
  });

  it('a stale record of a restarted node never wins: the node refutes it with a newer write', () => {
    const [n1, n2] = [registry('n1'), registry('n2')];
    connect(n1, n2);
    n1.publish(recordOf('echo', 'n1', { state: 'running' }));
    n1.publish(recordOf('echo', 'n1', { state: 'stopped' }));
    n1.publish(recordOf('echo', 'n1', { state: 'running', version: 2 }));
    // n1 restarts: its clock starts again at 0; it runs echo version 2, stopped.
    const restarted = registry('n1');
    connect(restarted, n2);
    restarted.publish(recordOf('echo', 'n1', { state: 'stopped', version: 2 }));
    expect(n2.get('echo')?.state).toBe('running'); // the old write (lamport 3) still wins at n2 ...
    restarted.mergeState(n2.localState(1 << 20)); // ... until a push-pull shows it to the restarted node
    expect(restarted.stats().refuted).toBe(1);
    expect(n2.get('echo')).toMatchObject({ state: 'stopped', version: 2 });
    expect(restarted.get('echo')).toMatchObject({ state: 'stopped', version: 2 });
  });

  it('a record of an agent a restarted node no longer runs is refuted by a tombstone', () => {
    const [n1, n2] = [registry('n1'), registry('n2')];
    connect(n1, n2);
    n1.publish(recordOf('ghost', 'n1'));
    const wiped = registry('n1');
    connect(wiped, n2);
    wiped.mergeState(n2.localState(1 << 20));
    expect(n2.get('ghost')).toBeUndefined();
    expect(wiped.get('ghost')).toBeUndefined();
  });

  it('an agent moved to another node is not deleted by the old node’s stale entry', () => {
    const [n1, n2, n3] = [registry('n1'), registry('n2'), registry('n3')];
    connect(n1, n2, n3);
    n1.publish(recordOf('mover', 'n1'));
    n1.publish(recordOf('mover', 'n1', { state: 'stopped' }));
    n2.publish(recordOf('mover', 'n2')); // taken over by n2
    const restarted = registry('n1');
    connect(restarted, n3);
    restarted.merge({ name: 'mover', lamport: 2, writer: 'n1', record: recordOf('mover', 'n1', { state: 'stopped' }) });
    expect(n3.get('mover')?.node).toBe('n2');
  });

  it('tombstones expire after their TTL; a full registry drops the oldest tombstone, then refuses new names', () => {
    const now = { t: 0 };
    const r = registry('n1', now, 3);
    r.publish(recordOf('a', 'n1'));
    r.publish(recordOf('b', 'n1'));
    r.withdraw('a');
    expect(r.stats()).toMatchObject({ records: 1, tombstones: 1 });
    now.t = 500;
    r.publish(recordOf('c', 'n1'));
    r.merge({ name: 'd', lamport: 10, writer: 'n2', record: recordOf('d', 'n2') }); // room made by dropping tombstone a
    expect(r.list().map((x) => x.name)).toEqual(['b', 'c', 'd']);
    expect(r.merge({ name: 'e', lamport: 11, writer: 'n2', record: recordOf('e', 'n2') })).toBe(false);
    expect(r.stats().refusedFull).toBe(1);
    expect(() => r.publish(recordOf('f', 'n1'))).toThrow(/max_records/);
    r.withdraw('b');
    now.t = 1499;
    expect(r.collectGarbage()).toBe(0);
    now.t = 1500;
    expect(r.collectGarbage()).toBe(1);
  });

  it('a state larger than the budget goes in slices that cover the registry in turn', () => {
    const r = registry('n1');
    for (let i = 0; i < 50; i++) r.publish(recordOf(`agent-${i}`, 'n1'));
    const whole = r.localState(1 << 20);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const slice = r.localState(Math.ceil(whole.length / 4));
      expect(slice.length).toBeLessThanOrEqual(Math.ceil(whole.length / 4));
      for (const e of decodeState(slice)!.entries) seen.add(e.name);
    }
    expect(seen.size).toBe(50);
  });

  it('codec round trip keeps every field', () => {
    const entry: RegistryEntry = { name: 'x', lamport: 7, writer: 'n9', record: recordOf('x', 'n9', { pinned: 'n9', tools: ['fs/*', 'web/get'] }) };
    expect(decodeUpdate(encodeUpdate(entry))).toEqual(entry);
    const r = registry('n1');
    r.merge(entry);
    expect(decodeState(r.localState(1 << 20))!.entries).toEqual([entry]);
  });
});
