// Membership figures from real Caxton processes on loopback (cluster.md targets): join time, SIGKILL
// detection time at 5 nodes (median of several crashes), false deaths of a 2 s SIGSTOP, and gossip bytes/s
// per node. Prints one JSON object. Run: npx tsx bench/cluster-real.ts [--crashes N] [--pauses N]
import {
  api,
  firstChange,
  memberChanges,
  startCluster,
  startClusterNode,
  stopAll,
  waitAllAlive,
  waitUntil,
  type ClusterNode,
} from '../test/cluster/node/cluster-processes.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const CRASHES = arg('--crashes', 5);
const PAUSES = arg('--pauses', 3);
const SIZE = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Time from a node's "gossip started" log line to its "joined the cluster" line (the push-pull join). */
function joinMs(node: ClusterNode): number | undefined {
  let startedAt: number | undefined;
  for (const line of node.output().split('\n')) {
    if (line.includes('"gossip started"')) startedAt = Date.parse(JSON.parse(line).time);
    if (line.includes('"joined the cluster"') && startedAt !== undefined) return Date.parse(JSON.parse(line).time) - startedAt;
  }
  return undefined;
}

type Figure = { name: string; value: number | null };
async function trafficBytes(node: ClusterNode): Promise<number> {
  const { body } = await api<{ figures: Figure[] }>(node, 'GET', '/api/v1/cluster/performance');
  const get = (n: string) => body.figures.find((f) => f.name === n)?.value ?? 0;
  return get('gossip_bytes_sent') + get('gossip_bytes_received');
}

const all: ClusterNode[] = [];
try {
  const t0 = Date.now();
  let nodes = await startCluster(SIZE, 'bench');
  all.push(...nodes);
  const converge = await waitAllAlive(nodes, nodes.map((n) => n.id), 20_000);
  const joins = nodes.slice(1).map(joinMs).filter((x): x is number => x !== undefined);
  const startToConverged = Date.now() - t0;

  // Steady-state gossip traffic per node over 10 s (sent + received, as the transport framed it).
  const before = await Promise.all(nodes.map(trafficBytes));
  await sleep(10_000);
  const after = await Promise.all(nodes.map(trafficBytes));
  const bytesPerSecond = after.map((a, i) => (a - before[i]) / 10);

  // Pauses: 2 s SIGSTOP, then count false deaths.
  let falseDeaths = 0;
  for (let i = 0; i < PAUSES; i++) {
    const paused = nodes[1 + (i % (SIZE - 1))];
    const at = Date.now();
    paused.child.kill('SIGSTOP');
    await sleep(2000);
    paused.child.kill('SIGCONT');
    await sleep(3000);
    falseDeaths += nodes.filter((n) => n !== paused && firstChange(n, paused.id, 'dead', at) !== undefined).length;
  }

  // Crashes: SIGKILL one, time until every other logged it dead; replace it, wait for 5 alive again.
  const victims = new Set<string>();
  const everywhere: number[] = [];
  const perObserver: number[] = [];
  for (let i = 0; i < CRASHES; i++) {
    const victim = nodes[1 + (i % (SIZE - 1))];
    victims.add(victim.id);
    const others = nodes.filter((n) => n !== victim);
    const at = Date.now();
    await victim.kill('SIGKILL');
    await waitUntil('crash detection', 15_000, () => others.every((n) => firstChange(n, victim.id, 'dead', at) !== undefined), 50);
    const times = others.map((n) => firstChange(n, victim.id, 'dead', at)! - at);
    perObserver.push(...times);
    everywhere.push(Math.max(...times));
    const replacement = await startClusterNode(`bench-r${i}`, ['--join', `127.0.0.1:${nodes[0].gossipPort}`]);
    all.push(replacement);
    nodes = [...others, replacement];
    await waitAllAlive(nodes, nodes.map((n) => n.id), 15_000);
  }
  const wrongDeaths = all.flatMap((n) => memberChanges(n).filter((c) => c.state === 'dead' && !victims.has(c.member))).length;

  console.log(
    JSON.stringify(
      {
        nodes: SIZE,
        join_push_pull_ms_median: median(joins),
        converged_ms_after_start: converge,
        processes_start_to_converged_ms: startToConverged,
        gossip_bytes_per_second_per_node_median: Math.round(median(bytesPerSecond)),
        gossip_bytes_per_second_per_node: bytesPerSecond.map(Math.round),
        pause_2s_trials: PAUSES,
        pause_false_deaths: falseDeaths,
        crash_trials: CRASHES,
        crash_dead_everywhere_ms_median: median(everywhere),
        crash_dead_everywhere_ms_max: Math.max(...everywhere),
        crash_dead_everywhere_ms: everywhere,
        crash_per_observer_ms_median: median(perObserver),
        unexpected_deaths: wrongDeaths,
      },
      null,
      2,
    ),
  );
} finally {
  await stopAll(all);
}
