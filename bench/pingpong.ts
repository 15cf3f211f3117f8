// Issue 2's figure: local ping-pong between two agents through the real node (validation, stamping, router,
// mailboxes, scheduler, metrics), next to the naive one-thread host of bench/lib/naive-host.ts, in the same
// run, alternating. Throughput with 64 exchanges in flight; per-hop latency unloaded (one in flight), a hop
// being one send to the next send (routing + delivery + the receiver's invocation).
// Run: npx tsx bench/pingpong.ts   (prints JSON lines)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/config.ts';
import { CaxtonNode } from '../src/node/node.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import { NaiveHost } from './lib/naive-host.ts';
import { latencyMicros, median, round } from './lib/stats.ts';
import { benchAgent } from './lib/wat.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const IN_FLIGHT = 64;
const LATENCY_SAMPLES = 20_000;

const ping = await benchAgent('ping');
const pong = await benchAgent('pong');

/** A throughput run: messages per wall second, and per CPU second of this process (less sensitive to a busy machine). */
interface Throughput {
  wall: number;
  cpu: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

async function naiveThroughput(): Promise<Throughput> {
  const host = new NaiveHost();
  await host.add('ping', await WebAssembly.compile(ping));
  await host.add('pong', await WebAssembly.compile(pong));
  for (let i = 0; i < IN_FLIGHT; i++) host.post('ping', { performative: 'inform', receiver: 'ping', sender: 'client:bench' });
  host.run(() => false === false && host.sends > 50_000); // warm-up
  const start = host.sends;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  host.run(() => performance.now() - t0 >= DURATION_MS);
  const sent = host.sends - start;
  return { wall: (sent * 1000) / (performance.now() - t0), cpu: sent / cpuSeconds(cpu0) };
}

async function naiveLatency(): Promise<{ p50_us: number; p99_us: number }> {
  const host = new NaiveHost();
  await host.add('ping', await WebAssembly.compile(ping));
  await host.add('pong', await WebAssembly.compile(pong));
  const samples = new Float64Array(LATENCY_SAMPLES);
  let n = -1_000;
  let last = process.hrtime.bigint();
  host.onSend = () => {
    const now = process.hrtime.bigint();
    if (n >= 0 && n < LATENCY_SAMPLES) samples[n] = Number(now - last);
    n++;
    last = now;
  };
  host.post('ping', { performative: 'inform', receiver: 'ping', sender: 'client:bench' });
  host.run(() => n >= LATENCY_SAMPLES);
  return latencyMicros(samples);
}

async function withNode<T>(work: (node: CaxtonNode, kick: (n: number) => void) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: {} });
  const node = await CaxtonNode.start({ config, listen: false });
  try {
    await node.deployAgent({ name: 'ping' }, ping);
    await node.deployAgent({ name: 'pong' }, pong);
    const kick = (n: number) => {
      for (let i = 0; i < n; i++) {
        const message: AclMessage = {
          performative: 'inform',
          sender: 'client:bench',
          receiver: 'ping',
          message_id: randomUUID(),
          conversation_id: randomUUID(),
        };
        node.router.route(message);
      }
    };
    return await work(node, kick);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Counts messages routed by wrapping the router the runtime sends through. */
function countRoutes(node: CaxtonNode, onRoute: () => void): void {
  const route = node.router.route.bind(node.router);
  node.router.route = (message: AclMessage) => {
    onRoute();
    route(message);
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function caxtonThroughput(): Promise<Throughput> {
  return withNode(async (node, kick) => {
    let routes = 0;
    countRoutes(node, () => routes++);
    kick(IN_FLIGHT);
    await sleep(300); // warm-up
    const start = routes;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(DURATION_MS);
    const routed = routes - start;
    return { wall: (routed * 1000) / (performance.now() - t0), cpu: routed / cpuSeconds(cpu0) };
  });
}

async function caxtonLatency(): Promise<{ p50_us: number; p99_us: number }> {
  return withNode(async (node, kick) => {
    const samples = new Float64Array(LATENCY_SAMPLES);
    let n = -1_000;
    let last = process.hrtime.bigint();
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    countRoutes(node, () => {
      const now = process.hrtime.bigint();
      if (n >= 0 && n < LATENCY_SAMPLES) samples[n] = Number(now - last);
      n++;
      last = now;
      if (n === LATENCY_SAMPLES) done();
    });
    kick(1);
    await finished;
    return latencyMicros(samples);
  });
}

const naiveRuns: Throughput[] = [];
const caxtonRuns: Throughput[] = [];
for (let run = 0; run < RUNS; run++) {
  naiveRuns.push(await naiveThroughput());
  caxtonRuns.push(await caxtonThroughput());
}
const naive = naiveRuns.map((r) => r.wall);
const caxton = caxtonRuns.map((r) => r.wall);
const naiveCpuMedian = median(naiveRuns.map((r) => r.cpu));
const caxtonCpuMedian = median(caxtonRuns.map((r) => r.cpu));
const naiveLat = await naiveLatency();
const caxtonLat = await caxtonLatency();
const naiveMedian = median(naive);
const caxtonMedian = median(caxton);
console.log(
  JSON.stringify({
    bench: 'pingpong',
    runs: RUNS,
    in_flight: IN_FLIGHT,
    caxton_msgs_per_s: Math.round(caxtonMedian),
    naive_msgs_per_s: Math.round(naiveMedian),
    ratio: round(caxtonMedian / naiveMedian),
    caxton_runs: caxton.map(Math.round),
    naive_runs: naive.map(Math.round),
    // Per CPU second of the process (all its threads): the same comparison, less moved by other load.
    caxton_msgs_per_cpu_s: Math.round(caxtonCpuMedian),
    naive_msgs_per_cpu_s: Math.round(naiveCpuMedian),
    ratio_cpu: round(caxtonCpuMedian / naiveCpuMedian),
    caxton_hop_unloaded: caxtonLat,
    naive_hop_unloaded: naiveLat,
    goal: 'ratio >= 0.8; seed floor 100000 msg/s, hop P50 100 us',
  }),
);
