// The large-cluster scenario of the simulator tests: `size` nodes join, converge, then one crashes and every
// other node must declare it dead, with no one else declared dead on the way.
import { expect } from 'vitest';
import { fastDetectConfig } from '../../../src/cluster/membership/config.ts';
import { SimCluster } from '../../../src/cluster/sim/sim-cluster.ts';

export async function convergeAndCrash(size: number, seed: number): Promise<void> {
  const c = new SimCluster({ seed, config: fastDetectConfig });
  await c.grow(size, 5_000);
  const joined = await c.runUntil(() => c.converged(size), 120_000);
  expect(joined, 'joins converge').toBeDefined();
  const victim = c.nodes[size >> 1];
  c.net.crash(victim.host);
  // Suspicion at n nodes: min 3 * log10(n) * 0.5 s, up to 3x that without confirmations.
  const took = await c.runUntil(() => c.seenDeadBy(victim.name) >= size - 1, 60_000);
  expect(took, 'crash detected everywhere').toBeDefined();
  expect(c.deaths.filter((d) => d.target !== victim.name)).toEqual([]);
}
