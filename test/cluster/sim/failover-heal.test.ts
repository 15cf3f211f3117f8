// Healing a 3|2 partition in the simulator: once the membership has come together again, every agent runs on
// exactly one node within HEAL_BOUND_MS. Before a member back from gone was handed the other side's writes
// (failover-catch-up.ts), each side's registry kept naming itself for the agents both ran until a periodic
// push-pull (15 s): both copies kept running, the state the 3|2 netns test found now and then.
import { describe, expect, it } from 'vitest';
import { fastDetectConfig } from '../../../src/cluster/membership/config.ts';
import { FailoverSim } from '../../../src/cluster/sim/failover-sim.ts';
import { xoshiro128 } from '../../../src/cluster/sim/prng.ts';

const SEEDS = Number(process.env.FAILOVER_HEAL_SEEDS ?? 40);
/** Gossip rounds and a check or two: nothing waits for a push-pull. */
const HEAL_BOUND_MS = 2000;

async function healOnce(seed: number): Promise<{ seed: number; membershipMs: number; singleOwnerMs: number | undefined; left: string[] }> {
  const random = xoshiro128(seed * 31 + 7);
  const f = new FailoverSim({ seed, config: fastDetectConfig });
  await f.start(5);
  const cluster = f.sim.cluster;
  const agents = Array.from({ length: 14 }, (_, i) => f.deploy(`echo-${i}`).name);
  await cluster.runUntil(() => f.sim.count((r) => agents.every((a) => r.get(a) !== undefined)) === 5, 10_000, 10);
  await cluster.net.runFor(2000);
  const shuffled = [...cluster.nodes].sort(() => random() - 0.5);
  cluster.net.partition([shuffled.slice(0, 3).map((n) => n.host)]);
  // Long enough for both sides to declare the other dead and the majority to take over.
  await cluster.net.runFor(8000 + random() * 8000);
  cluster.net.heal();
  const healedAt = cluster.net.now();
  await cluster.runUntil(() => cluster.converged(5), 60_000, 20);
  const convergedAt = cluster.net.now();
  const single = await cluster.runUntil(() => agents.every((a) => f.holders(a).length === 1), 30_000, 20);
  return {
    seed,
    membershipMs: convergedAt - healedAt,
    singleOwnerMs: single === undefined ? undefined : cluster.net.now() - convergedAt,
    left: agents.filter((a) => f.holders(a).length !== 1).map((a) => `${a}[${f.holders(a).join(',')}]`),
  };
}

describe('healing a 3|2 partition in the simulator', () => {
  it(`every agent on exactly one node within ${HEAL_BOUND_MS} ms of the membership coming together (${SEEDS} seeds)`, { timeout: 300_000 }, async () => {
    const outcomes = [];
    for (let seed = 1; seed <= SEEDS; seed++) outcomes.push(await healOnce(seed));
    const times = outcomes.map((o) => o.singleOwnerMs ?? Infinity).sort((x, y) => x - y);
    console.log(
      JSON.stringify({
        figure: 'failover_sim_heal',
        seeds: SEEDS,
        single_owner_after_membership_ms_median: Math.round(times[times.length >> 1]),
        single_owner_after_membership_ms_max: Math.round(times[times.length - 1]),
      }),
    );
    const slow = outcomes.filter((o) => o.singleOwnerMs === undefined || o.singleOwnerMs > HEAL_BOUND_MS);
    expect(slow.map((o) => ({ seed: o.seed, ms: o.singleOwnerMs && Math.round(o.singleOwnerMs), left: o.left }))).toEqual([]);
  });
});
