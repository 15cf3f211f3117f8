// A peer's write stamped with a Lamport time no cluster could reach (a forged MAX_SAFE_INTEGER) is refused:
// it pinned every node's clock at 2^53, after which no node's write was decodable by its peers again, so
// deploys, upgrades and deletes stopped spreading for good. A forged time at the bound is overtaken by the
// owner's next write.
import { describe, expect, it } from 'vitest';
import { AgentRegistry, LAMPORT_TICKS_PER_MS } from '../../../src/cluster/registry/agent-registry.ts';
import { encodeUpdate } from '../../../src/cluster/registry/registry-codec.ts';
import { recordOf } from './records.ts';

const clock = { ms: Date.UTC(2026, 0, 1) };
function registry(nodeId: string): AgentRegistry {
  return new AgentRegistry({ nodeId, now: () => 0, maxRecords: 1000, tombstoneTtlMs: 1000, wallClock: () => clock.ms });
}

/** a's writes reach b (and b's reach a), as gossip would carry them. */
function link(a: AgentRegistry, b: AgentRegistry): void {
  a.onSpread((_e, payload) => b.receiveUpdate(payload));
  b.onSpread((_e, payload) => a.receiveUpdate(payload));
}

describe('Lamport times from peers are bounded by the wall clock', () => {
  it('a write stamped 2^53-1 is refused and counted; later writes still spread both ways', () => {
    const a = registry('a');
    const b = registry('b');
    link(a, b);
    a.publish(recordOf('one', 'a'));
    expect(b.get('one')?.node).toBe('a');

    const forged = encodeUpdate({ name: 'zzz', lamport: Number.MAX_SAFE_INTEGER, writer: 'mallory', record: null });
    expect(a.receiveUpdate(forged)).toBeUndefined();
    expect(a.stats()).toMatchObject({ refusedAhead: 1 });
    expect(a.stats().lamport).toBeLessThan(1000);

    a.publish(recordOf('two', 'a'));
    b.publish(recordOf('three', 'b'));
    a.withdraw('one');
    // Before: a's clock sat at 2^53, its writes were refused by b's decoder, and b kept 'one' and never saw 'two'.
    expect(b.get('two')?.node).toBe('a');
    expect(a.get('three')?.node).toBe('b');
    expect(b.get('one')).toBeUndefined();
  });

  it("a forged write at the bound (claiming an agent for another node) is overtaken by the owner's next write", () => {
    const a = registry('a');
    const b = registry('b');
    link(a, b);
    a.publish(recordOf('echo', 'a'));
    const bound = clock.ms * LAMPORT_TICKS_PER_MS;
    const claim = encodeUpdate({ name: 'echo', lamport: bound, writer: '\u{10ffff}', record: recordOf('echo', 'mallory') });
    expect(b.receiveUpdate(claim)).toBeDefined();
    expect(a.receiveUpdate(claim)).toBeDefined();
    expect(b.get('echo')?.node).toBe('mallory');
    expect(b.receiveUpdate(encodeUpdate({ name: 'x', lamport: bound + 1, writer: 'mallory', record: null }))).toBeUndefined();

    clock.ms += 1; // the bound moves on by LAMPORT_TICKS_PER_MS
    // The owner claims its agent again (what failover's `reclaim` does): its write is above the forged one.
    a.publish(recordOf('echo', 'a', { version: 2 }));
    expect(b.get('echo')).toMatchObject({ node: 'a', version: 2 });
  });
});
