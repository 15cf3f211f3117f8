// Agent registry figures (issue 9), one JSON line each:
// - convergence in the simulator: 100 nodes, 5% datagram loss, virtual ms from one publish (and one
//   delete) until every node knows it; median over several seeds; beside it what the nodes measured
//   themselves from the write's stamp (the slowest node's sample, and the P50 over all nodes);
// - push-pull user state size of a registry of 1,000 / 10,000 / 100,000 agents (encoded bytes);
// - with --real: convergence on 10 real processes, ms from the deploy's 201 until the last node knows it,
//   beside the gossip_convergence_p50/p99 the nodes report in `cluster performance` (their own measure).
// Run: npx tsx bench/registry-convergence.ts [--seeds N] [--real] [--deploys N]
import { fastDetectConfig } from '../src/cluster/membership/config.ts';
import { AgentRegistry } from '../src/cluster/registry/agent-registry.ts';
import { REGISTRY_GOSSIP_DEFAULTS } from '../src/cluster/registry/registry-gossip.ts';
import { RegistrySim } from '../src/cluster/sim/registry-sim.ts';
import { api, startClusterNode, stopAll, waitAllAlive, type ClusterNode } from '../test/cluster/node/cluster-processes.ts';
import { exampleModule } from '../test/helpers/modules.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number): number => Math.round(x * 10) / 10;

const record = (name: string, node: string) => ({
  name,
  node,
  version: 1,
  module_sha256: 'ab'.repeat(32),
  capabilities: ['echo'],
  state: 'running' as const,
  limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 1024 },
});

async function simulated(seeds: number): Promise<void> {
  const publish: number[] = [];
  const remove: number[] = [];
  const slowestMeasured: number[] = [];
  const medianMeasured: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const sim = new RegistrySim({ seed, config: fastDetectConfig, lossRate: 0.05 });
    await sim.cluster.grow(100, 2_000);
    await sim.cluster.runUntil(() => sim.cluster.converged(100), 60_000);
    const origin = sim.cluster.nodes[seed % 100].name;
    sim.registry(origin).publish(record('echo', origin));
    publish.push((await sim.runUntilAll((r) => r.get('echo') !== undefined, 30_000)) ?? NaN);
    const measured = sim.convergenceSamples.map((x) => x.ms);
    slowestMeasured.push(Math.max(...measured));
    medianMeasured.push(median(measured));
    sim.registry(origin).withdraw('echo');
    remove.push((await sim.runUntilAll((r) => r.get('echo') === undefined, 30_000)) ?? NaN);
  }
  console.log(JSON.stringify({ bench: 'registry_convergence_sim', nodes: 100, loss: 0.05, seeds, publish_median_ms: round(median(publish)), publish_max_ms: round(Math.max(...publish)), measured_by_nodes_slowest_median_ms: round(median(slowestMeasured)), measured_by_nodes_p50_median_ms: round(median(medianMeasured)), delete_median_ms: round(median(remove)), runs_ms: publish.map(round) }));
}

function stateSizes(): void {
  for (const count of [1_000, 10_000, 100_000]) {
    const r = new AgentRegistry({ nodeId: 'node-0', now: () => 0, maxRecords: 200_000, tombstoneTtlMs: 1 });
    // Names and nodes as a real cluster has them: ~10-character agent names over 10 node ids.
    for (let i = 0; i < count; i++) r.merge({ name: `agent-${i}`, lamport: i + 1, writer: `node-${i % 10}`, record: record(`agent-${i}`, `node-${i % 10}`) });
    const bytes = r.localState(REGISTRY_GOSSIP_DEFAULTS.maxStateBytes * 4).length;
    console.log(JSON.stringify({ bench: 'registry_push_pull_state', agents: count, bytes, bytes_per_1000_agents: Math.round((bytes / count) * 1000) }));
  }
}

async function real(deploys: number): Promise<void> {
  // Kept as each starts, so a start that fails (a loaded machine) leaves no node running.
  const nodes: ClusterNode[] = [];
  try {
    nodes.push(await startClusterNode('bench-reg-0', ['--bootstrap']));
    await Promise.all(
      Array.from({ length: 9 }, async (_, i) => {
        nodes.push(await startClusterNode(`bench-reg-${i + 1}`, ['--join', `127.0.0.1:${nodes[0].gossipPort}`]));
      }),
    );
    await waitAllAlive(nodes, nodes.map((n) => n.id), 60_000);
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const took: number[] = [];
    for (let i = 0; i < deploys; i++) {
      const origin = nodes[i % nodes.length];
      const name = `echo-${i}`;
      const res = await api(origin, 'POST', '/api/v1/agents', { name, module });
      if (res.status !== 201) throw new Error(`deploy ${name}: ${res.status}`);
      const start = Date.now();
      await Promise.all(
        nodes
          .filter((n) => n !== origin)
          .map(async (n) => {
            for (;;) {
              const r = await fetch(`${n.url}/api/v1/agents/${name}`, { headers: { authorization: `Bearer ${n.apiKey()}` } });
              await r.arrayBuffer();
              if (r.status === 200) return;
              await new Promise((s) => setTimeout(s, 10));
            }
          }),
      );
      took.push(Date.now() - start);
    }
    // What each node measured itself over the same deploys (its last 4,096 writes learnt by gossip).
    const figures = await Promise.all(
      nodes.map(async (n) => {
        const f = (await api<{ figures: { name: string; value: number | null }[] }>(n, 'GET', '/api/v1/cluster/performance')).body.figures;
        return { p50: f.find((x) => x.name === 'gossip_convergence_p50')?.value ?? NaN, p99: f.find((x) => x.name === 'gossip_convergence_p99')?.value ?? NaN };
      }),
    );
    console.log(
      JSON.stringify({
        bench: 'registry_convergence_real',
        nodes: 10,
        deploys,
        median_ms: median(took),
        max_ms: Math.max(...took),
        runs_ms: took,
        measured_by_nodes_p50_median_ms: median(figures.map((f) => f.p50)),
        measured_by_nodes_p99_max_ms: Math.max(...figures.map((f) => f.p99)),
      }),
    );
  } finally {
    await stopAll(nodes);
  }
}

await simulated(arg('--seeds', 7));
stateSizes();
if (process.argv.includes('--real')) await real(arg('--deploys', 10));
