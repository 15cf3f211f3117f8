// The registry in the simulator (issue 9): 100 nodes, 5% datagram loss, one publish known everywhere
// within 2 s of virtual time; a delete likewise; a node that missed everything is repaired by push-pull.
// What the nodes measure themselves (gossip convergence from the writes' stamps) agrees with what the
// simulator sees from outside.
import { describe, expect, it } from 'vitest';
import { fastDetectConfig } from '../../../src/cluster/membership/config.ts';
import { RegistrySim } from '../../../src/cluster/sim/registry-sim.ts';
import { recordOf } from './records.ts';

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

describe('agent registry in the simulator', () => {
  it('100 nodes, 5% loss: a publish and a delete reach every node within 2 s', async () => {
    const sim = new RegistrySim({ seed: 21, config: fastDetectConfig, lossRate: 0.05 });
    await sim.cluster.grow(100, 2_000);
    expect(await sim.cluster.runUntil(() => sim.cluster.converged(100), 60_000)).toBeDefined();

    const origin = sim.cluster.nodes[37].name;
    sim.registry(origin).publish(recordOf('echo', origin));
    const took = await sim.runUntilAll((r) => r.get('echo')?.node === origin, 10_000);
    expect(took, 'publish known everywhere').toBeDefined();
    console.log(JSON.stringify({ figure: 'registry_convergence_sim_100_nodes_loss_5pct_ms', value: took }));
    expect(took!).toBeLessThanOrEqual(2000);
    // Each node's own figure: the write's stamp until it learnt the update, on the simulator's one clock.
    // The outside view checks every 5 virtual ms, so the slowest node's sample is within 5 ms below it.
    const measured = sim.convergenceSamples.map((s) => s.ms);
    expect(measured.length, 'nodes that learnt the write by gossip and got its stamp').toBeGreaterThanOrEqual(90);
    expect(Math.max(...measured)).toBeLessThanOrEqual(took!);
    expect(Math.max(...measured)).toBeGreaterThan(took! - 5 - 1);
    expect(Math.min(...measured)).toBeGreaterThan(0);
    console.log(JSON.stringify({ figure: 'registry_convergence_sim_measured_by_nodes_ms', p50: percentile(measured, 50), p99: percentile(measured, 99), max: Math.max(...measured), outside: took }));

    sim.registry(origin).withdraw('echo');
    const gone = await sim.runUntilAll((r) => r.get('echo') === undefined, 10_000);
    expect(gone, 'delete known everywhere').toBeDefined();
    expect(gone!).toBeLessThanOrEqual(2000);
    expect(sim.count((r) => r.countByNode().get(origin) === undefined)).toBe(100);
  }, 60_000);

  it('a node partitioned away during a publish learns it by push-pull once healed', async () => {
    const sim = new RegistrySim({ seed: 5, config: fastDetectConfig });
    await sim.cluster.grow(10);
    expect(await sim.cluster.runUntil(() => sim.cluster.converged(10), 30_000)).toBeDefined();
    const [a, , , lonely] = sim.cluster.nodes;
    sim.cluster.net.partition([[lonely.host]]);
    sim.registry(a.name).publish(recordOf('far', a.name));
    // Long enough for the gossip to finish its retransmissions: only push-pull can repair it now.
    await sim.cluster.net.runFor(5_000);
    expect(sim.registry(lonely.name).get('far')).toBeUndefined();
    sim.cluster.net.heal();
    const took = await sim.runUntilAll((r) => r.get('far') !== undefined, 120_000);
    expect(took, 'repaired by push-pull').toBeDefined();
  }, 60_000);
});
