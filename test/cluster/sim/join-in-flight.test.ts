// Issue 9, finding (a), in virtual time: B's own join is in flight (a slow link to the cluster it joins)
// when C joins B. B answers C with what it knows then (B and C), and the alive broadcasts about C are
// spent on the only peers known then (B and C themselves), so the cluster behind A learnt of C only at the
// next push-pull (15 s at this size). Now B, once its join completes, syncs again with those that joined
// it meanwhile and with its join target: everyone lists everyone right after B's join completes.
import { describe, expect, it } from 'vitest';
import { fastDetectConfig } from '../../../src/cluster/membership/config.ts';
import { SimCluster } from '../../../src/cluster/sim/sim-cluster.ts';

/** One-way latency of the links between B (host 2) and the first cluster (hosts 0, 1). */
const SLOW_LINK_MS = 1500;

describe('a node joined while its own join is in flight', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`passes the whole view on once its join completes (seed ${seed})`, async () => {
      const c = new SimCluster({
        seed,
        config: fastDetectConfig,
        latency: (_r, from, to) => ((from === 2 && to < 2) || (to === 2 && from < 2) ? SLOW_LINK_MS : 0.5),
      });
      const [a, d, b, newcomer] = [c.addNode('a'), c.addNode('d'), c.addNode('b'), c.addNode('c')];
      let dDone = false;
      void d.membership.join([a.host.address]).then(() => (dDone = true));
      await c.runUntil(() => dDone, 5000);
      let bDone = false;
      void b.membership.join([a.host.address]).then(() => (bDone = true));
      await c.net.runFor(100);
      let cDone = false;
      void newcomer.membership.join([b.host.address]).then(() => (cDone = true));
      await c.runUntil(() => cDone, 1000);
      expect(bDone).toBe(false);
      // C got the partial view of a node whose own join is still under way.
      expect(newcomer.live).toBe(2);
      await c.runUntil(() => bDone, 10_000);
      const joinedAt = c.net.now();
      const took = await c.runUntil(() => c.converged(4), 14_000, 10);
      const after = took === undefined ? undefined : c.net.now() - joinedAt;
      console.log(JSON.stringify({ test: 'join-in-flight', seed, view_complete_after_join_ms: after }));
      // Within two crossings of the slow link after B's join completes, not at the next push-pull.
      expect(after, `views: ${c.nodes.map((n) => `${n.name}=${n.live}`).join(' ')}`).toBeLessThan(2 * SLOW_LINK_MS + 500);
    });
  }
});
