// Issue 14's isolation "done when" on a real node process with two agent workers: while a spinner burns the
// node's maximum fuel per invocation on one worker, /health, gossip acks and an echo agent on the other
// worker keep answering about as fast as when the node is quiet. The machine is shared, so the bound is the
// quiet P99 × 2 plus a margin; what is asserted is that nobody waits for the spinner's invocations (each is
// ~0.35 s or more: the in-thread runtime makes every request wait for them).
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/cluster/wire/codec.ts';
import { apiClient } from '../helpers/api-client.ts';
import { compileWat, exampleModule } from '../helpers/modules.ts';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';

let node: NodeProcess;
let key: string;
const { api, deploy } = apiClient(() => ({ url: node.url, key }));
const NODE_ID = 'isolated';
const SAMPLES = 30;
/** Milliseconds added to twice the quiet P99: scheduling noise of a machine shared by other test runs. */
const MARGIN_MS = 60;

beforeAll(async () => {
  node = await startNode({ nodeId: NODE_ID, env: { CAXTON_AGENTS_WORKERS: '2' } });
  key = node.apiKey();
}, 60_000);

afterAll(async () => {
  await node?.kill('SIGTERM');
});

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

function p(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One memberlist ping to the node's gossip port; resolves when its answer (the ack) arrives. */
function gossipPing(seqNo: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no gossip ack for ping ${seqNo}`));
    }, 5000);
    socket.on('message', () => {
      clearTimeout(timer);
      socket.close();
      resolve();
    });
    socket.send(encodeMessage({ type: 'ping', seqNo, node: NODE_ID }), node.gossipPort, '127.0.0.1');
  });
}

const health = () => fetch(`${node.url}/health`).then((r) => r.text());
const echo = async () => {
  const reply = await api('/api/v1/messages?wait_ms=5000', { method: 'POST', json: { performative: 'request', receiver: 'echo', content: { n: 1 } } });
  expect(reply.body.replies?.[0]?.performative).toBe('inform');
};

/** SAMPLES rounds, and more until `minMs` have passed. */
async function sample(minMs = 0): Promise<{ health: number[]; echo: number[]; gossip: number[] }> {
  const out = { health: [] as number[], echo: [] as number[], gossip: [] as number[] };
  const start = performance.now();
  for (let i = 0; i < SAMPLES || performance.now() - start < minMs; i++) {
    out.health.push(await timed(health));
    out.echo.push(await timed(echo));
    out.gossip.push(await timed(() => gossipPing(i + 1)));
  }
  return out;
}

describe('agent workers isolate a spinner', () => {
  it('health, gossip acks and an echo agent on another worker answer within quiet P99 × 2 while a spinner burns max fuel', async () => {
    expect((await deploy('echo', exampleModule('echo'))).status).toBe(201);
    const spinner = await compileWat(`(module (memory (export "memory") 2)
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param $ptr i32) (param $len i32) (result i32) (loop $l (br $l)) (i32.const 0)))`);
    expect((await deploy('spin', spinner, { limits: { fuel: 1_000_000_000 } })).status).toBe(201);
    const metrics = (await api('/metrics')).body as string;
    expect(metrics).toContain('caxton_agent_thread_agents{thread="worker-0"} 1');
    expect(metrics).toContain('caxton_agent_thread_agents{thread="worker-1"} 1');

    await sample(); // warm-up
    const quiet = await sample();

    // Keeps the spinner's worker busy for the whole measurement: each message is one max-fuel invocation.
    const spins = Array.from({ length: 40 }, () => api('/api/v1/messages', { method: 'POST', json: { performative: 'inform', receiver: 'spin', content: 'go' } }));
    await Promise.all(spins);
    // Long enough for several of the spinner's invocations (each ends by fuel or at max_invocation_ms, 1 s).
    const busy = await sample(3000);
    // The spinner ran: its invocations end by fuel (or the wall-clock bound), each a trap, and more wait (the
    // main thread counts those it handed the worker and no invocation took yet). Either shows it: after five
    // traps within 60 s the agent is failed and its mailbox answered, so the depth can be 0 by the time this
    // asks (CI saw that). The depth itself is checked in test/agents/workers/worker-pool-handover.test.ts.
    let last: unknown;
    const spinning = async (): Promise<boolean> => {
      const stats = (await api('/api/v1/agents/spin')).body.stats;
      last = stats;
      return stats.traps > 0 || stats.mailbox_depth > 0;
    };
    await expect.poll(spinning, { timeout: 15_000 }).toBe(true);
    console.log(JSON.stringify({ test: 'worker-isolation', spinner_stats: last }));

    const report: Record<string, unknown> = {};
    for (const what of ['health', 'echo', 'gossip'] as const) {
      const bound = p(quiet[what], 0.99) * 2 + MARGIN_MS;
      report[what] = { quiet_p99_ms: p(quiet[what], 0.99), busy_p50_ms: p(busy[what], 0.5), busy_p99_ms: p(busy[what], 0.99), bound_ms: bound };
      expect(p(busy[what], 0.5), `${what} P50 while spinning`).toBeLessThanOrEqual(bound);
      expect(p(busy[what], 0.9), `${what} P90 while spinning`).toBeLessThanOrEqual(bound);
    }
    console.log(JSON.stringify({ figure: 'worker_isolation', ...report }));
  }, 120_000);
});
