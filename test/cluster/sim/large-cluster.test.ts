// 100 and 1,000 nodes, both in the default suite. The 1,000-node run costs ~45 s of CPU (~65 s wall on
// this shared 2-core machine): the join storm alone is ~16 M alive transmissions, as memberlist sends them
// (1,000 nodes x 1,000 alives x 16 retransmits); the broadcast queue's early exit keeps each one ~1 µs.
import { describe, expect, it } from 'vitest';
import { fastDetectConfig } from '../../../src/cluster/membership/config.ts';
import { SimCluster } from '../../../src/cluster/sim/sim-cluster.ts';

async function convergeAndCrash(size: number, seed: number): Promise<void> {
  const c = new SimCluster({ seed, config: fastDetectConfig });
  await c.grow(size, 5_000);
  const joined = await c.runUntil(() => c.converged(size), 120_000);
  expect(joined, 'joins converge').toBeDefined();
  const victim = c.nodes[size >> 1];
  c.net.crash(victim.host);
  // Suspicion at n nodes: min 3 * log10(n) * 0.5 s, up to 3x that without confirmations.
  const took = await c.runUntil(() => c.seenDeadBy(victim.name) >= size - 1, 60_000, );
  expect(took, 'crash detected everywhere').toBeDefined();
  expect(c.deaths.filter((d) => d.target !== victim.name)).toEqual([]);
}

describe('simulated membership, large clusters', () => {
  it('100 nodes: joins converge, a crash is detected everywhere', async () => {
    await convergeAndCrash(100, 11);
  }, 60_000);

  it('1,000 nodes: joins converge, a crash is detected everywhere', async () => {
    await convergeAndCrash(1000, 12);
  }, 240_000);
});
