import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rendezvousOwner } from '../../../src/cluster/placement/rendezvous.ts';

const nodeIds = fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 12 });

describe('rendezvous placement', () => {
  it('has no owner without nodes', () => {
    expect(rendezvousOwner('a', [])).toBeUndefined();
  });

  it('gives every node the same answer whatever the order of the members', () => {
    fc.assert(
      fc.property(fc.string(), nodeIds, (agent, nodes) => {
        const owner = rendezvousOwner(agent, nodes);
        expect(nodes).toContain(owner);
        expect(rendezvousOwner(agent, [...nodes].reverse())).toBe(owner);
        expect(rendezvousOwner(agent, [...nodes, ...nodes])).toBe(owner);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('moves only the agents of a node that goes away', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 50 }), nodeIds.filter((n) => n.length >= 2), (agents, nodes) => {
        const gone = nodes[0];
        const rest = nodes.slice(1);
        for (const agent of agents) {
          const before = rendezvousOwner(agent, nodes);
          if (before !== gone) expect(rendezvousOwner(agent, rest)).toBe(before);
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('spreads agents evenly: 30,000 agents over 3 nodes, each within 5% of a third', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const owner = rendezvousOwner(`agent-${i}`, ['n1', 'n2', 'n3'])!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const n of ['n1', 'n2', 'n3']) expect(Math.abs((counts.get(n) ?? 0) - 10_000)).toBeLessThan(500);
  });
});
