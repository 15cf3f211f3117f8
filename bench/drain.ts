// Issue 12's drain figure on real processes: a node running N agents (default 1,000 echo agents) is drained
// (`POST /api/v1/node/drain`) while a client keeps requesting those agents through the other node; measured:
// the hand-over time (drain report minus the linger), the whole drain, and messages lost (requests with no
// answer) or answered `failure`. One JSON line per run, then one with the medians.
// Run: npx tsx bench/drain.ts [--agents N] [--runs N] [--clients N]
import { api, startClusterNode, waitAllAlive, waitUntil, type ClusterNode } from '../test/cluster/node/cluster-processes.ts';
import { exampleModule } from '../test/helpers/modules.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const AGENTS = arg('--agents', 1000);
const RUNS = arg('--runs', 3);
const CLIENTS = arg('--clients', 8);
const LINGER_MS = 3000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Run {
  agents: number;
  moved: number;
  handover_ms: number;
  drain_ms: number;
  requests: number;
  inform: number;
  failure: number;
  lost: number;
}

async function once(run: number): Promise<Run> {
  const env = { CAXTON_CLUSTER_DRAIN_LINGER_MS: String(LINGER_MS), CAXTON_LOG_LEVEL: 'warn' };
  const nodes: ClusterNode[] = [];
  try {
    const a = await startClusterNode(`dr${run}-a`, ['--bootstrap'], env);
    nodes.push(a);
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const names = Array.from({ length: AGENTS }, (_, i) => `d${i}`);
    // Alone, the node owns every agent it is given.
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map(async (name) => {
        const r = await api(a, 'POST', '/api/v1/agents', { name, module });
        if (r.status !== 201) throw new Error(`deploy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      }));
    }
    const token = (await api<{ token: string }>(a, 'POST', '/api/v1/cluster/token', {})).body.token;
    const b = await startClusterNode(`dr${run}-b`, ['--join', `127.0.0.1:${a.gossipPort}`, '--token', token], env);
    nodes.push(b);
    await waitAllAlive(nodes, [a.id, b.id], 20_000);
    await waitUntil('the other node knows every agent', 30_000, async () => (await api<any>(b, 'GET', '/api/v1/cluster/status')).body.agents >= AGENTS);

    let stop = false;
    let next = 0;
    const counts = { requests: 0, inform: 0, failure: 0, lost: 0 };
    const client = async (): Promise<void> => {
      while (!stop) {
        const name = names[next++ % names.length];
        counts.requests++;
        const r = await api<any>(b, 'POST', '/api/v1/messages?wait_ms=20000', { performative: 'request', receiver: name, content: { n: next } });
        const reply = r.body?.replies?.[0];
        if (!reply) counts.lost++;
        else if (reply.performative === 'inform') counts.inform++;
        else counts.failure++;
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await waitUntil('the client running', 10_000, () => counts.inform >= 50);
    const started = Date.now();
    const drained = await api<any>(a, 'POST', '/api/v1/node/drain', {});
    const drainMs = Date.now() - started;
    if (drained.status !== 200) throw new Error(`drain: ${drained.status} ${JSON.stringify(drained.body)}`);
    stop = true;
    await Promise.all(clients);
    if (process.env.DRAIN_DEBUG) {
      const lines = a.output().split('\n').filter((l) => l.includes('handed over'));
      console.error(lines.slice(0, 5).join('\n'), '\n...\n', lines.slice(-5).join('\n'));
    }
    const moved = drained.body.moved as number;
    if (drained.body.failed.length > 0) console.error(JSON.stringify({ failed: drained.body.failed.length, sample: drained.body.failed.slice(0, 3) }));
    if (counts.lost > 0) console.error(a.output().split('\n').filter((l) => /warn|error/.test(l)).slice(-10).join('\n'), b.output().split('\n').filter((l) => /warn|error/.test(l)).slice(-10).join('\n'));
    return { agents: AGENTS, moved, handover_ms: drained.body.duration_ms - (moved > 0 ? LINGER_MS : 0), drain_ms: drainMs, ...counts };
  } finally {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  }
}

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await once(i);
  runs.push(r);
  console.log(JSON.stringify({ bench: 'drain', run: i, ...r }));
}
console.log(
  JSON.stringify({
    bench: 'drain',
    summary: 'median',
    runs: RUNS,
    agents: AGENTS,
    handover_ms: median(runs.map((r) => r.handover_ms)),
    drain_ms: median(runs.map((r) => r.drain_ms)),
    lost: runs.reduce((s, r) => s + r.lost, 0),
    failure: runs.reduce((s, r) => s + r.failure, 0),
    requests: runs.reduce((s, r) => s + r.requests, 0),
  }),
);
