// Issue 14's figures: agents on worker threads. Prints JSON lines:
// - `pairs`: aggregate throughput of 64 independent ping-pong pairs (each pair's two agents on one worker)
//   with the in-thread runtime (agents.workers 0), 1, 2 and all workers, next to the one-thread naive host,
//   alternating within each run; figures are medians of BENCH_RUNS runs (`_vs_naive`: of the medians;
//   `_vs_naive_paired`: the median of each run's ratio to the naive host of the same run). A hop is one invocation.
// - `pair_hop`: one pair, one message in flight, its two agents on one worker vs on two workers (a hop then
//   goes over the pair's direct channel). Mean hop from throughput; round-trip P50/P99 stamped by the main
//   thread spinning on worker-0's invocation count (not its router, which no longer sees the hops), and how
//   many routings the main thread made per hop (0 once nothing crosses it).
// - `rss`: process RSS with 0, 1, 2 and all workers, 128 idle agents deployed, each in a fresh process.
// Run: npx tsx bench/workers.ts [--pairs | --hop | --one N]   (BENCH_RUNS, BENCH_DURATION_MS; the machine may be shared: see `load`)
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import { CaxtonNode } from '../src/node/node.ts';
import { NaiveHost } from './lib/naive-host.ts';
import { latencyMicros, median, round } from './lib/stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const PAIRS = 64;
const CORES = availableParallelism();

type Wabt = { parseWat(name: string, source: string): { toBinary(o: object): { buffer: Uint8Array } } };
const wabt: Wabt = await (await import('wabt')).default();

/** An agent answering every message with one inform to `peer` (4-character names keep the text length). */
function bouncer(peer: string): Uint8Array {
  const text = `{\\"performative\\":\\"inform\\",\\"receiver\\":\\"${peer}\\",\\"content\\":1}`;
  const source = `(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "${text}")
  (func (export "agent_alloc") (param $len i32) (result i32) (i32.const 4096))
  (func (export "handle_message") (param i32 i32) (result i32)
    (drop (call $send (i32.const 16) (i32.const 55)))
    (i32.const 0)))`;
  return new Uint8Array(wabt.parseWat('bouncer.wat', source).toBinary({}).buffer);
}
const name = (side: 'a' | 'b', i: number) => `${side}${String(i).padStart(3, '0')}`;
const modules = new Map<string, Uint8Array>();
for (let i = 0; i < PAIRS; i++) {
  modules.set(name('a', i), bouncer(name('b', i)));
  modules.set(name('b', i), bouncer(name('a', i)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withNode<T>(workers: number, work: (node: CaxtonNode) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-'));
  // The conversation log off, as in a throughput deployment: deliveries inside a worker are then counted only.
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: { CAXTON_AGENTS_WORKERS: String(workers), CAXTON_STATE_CONVERSATION_LOG: 'off' } });
  const node = await CaxtonNode.start({ config, listen: false });
  try {
    return await work(node);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Deploys a000..a(n-1) then b000..b(n-1): with the pool's least-loaded placement a pair shares a worker. */
async function deployPairs(node: CaxtonNode, pairs: number, names: string[] = []): Promise<void> {
  for (const side of ['a', 'b'] as const) {
    for (let i = 0; i < pairs; i++) await node.deployAgent({ name: name(side, i) }, modules.get(name(side, i))!);
  }
  for (const extra of names) await node.deployAgent({ name: extra }, modules.get(name('a', 0))!);
}

function kick(node: CaxtonNode, pairs: number): void {
  for (let i = 0; i < pairs; i++) {
    const message: AclMessage = { performative: 'inform', sender: name('a', i), receiver: name('b', i), message_id: randomUUID(), conversation_id: randomUUID() };
    node.router.route(message);
  }
}

const invocations = (node: CaxtonNode) => node.runtime.list().reduce((sum, a) => sum + a.stats.invocations, 0);

/** Messages per wall second, and per CPU second of the whole process (all threads): less moved by other load. */
interface Throughput {
  wall: number;
  cpu: number;
}

async function nodeThroughput(workers: number, pairs: number): Promise<Throughput> {
  return withNode(workers, async (node) => {
    await deployPairs(node, pairs);
    kick(node, pairs);
    await sleep(500); // warm-up
    const start = invocations(node);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(DURATION_MS);
    const handled = invocations(node) - start;
    const cpu = process.cpuUsage(cpu0);
    return { wall: (handled * 1000) / (performance.now() - t0), cpu: handled / ((cpu.user + cpu.system) / 1e6) };
  });
}

async function naiveThroughput(): Promise<Throughput> {
  const host = new NaiveHost();
  for (const [agent, bytes] of modules) await host.add(agent, new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  for (let i = 0; i < PAIRS; i++) host.post(name('b', i), { performative: 'inform', receiver: name('b', i), sender: name('a', i) });
  host.run(() => host.sends > 50_000);
  const start = host.sends;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  host.run(() => performance.now() - t0 >= DURATION_MS);
  const cpu = process.cpuUsage(cpu0);
  return { wall: ((host.sends - start) * 1000) / (performance.now() - t0), cpu: (host.sends - start) / ((cpu.user + cpu.system) / 1e6) };
}

/**
 * Round trips (a000 → b000 → a000) of one pair, one message in flight, sampled without the main thread's
 * router (across workers it no longer sees them): the main thread spins on worker-0's invocation count (the
 * integer each worker writes around every invocation for the watchdog) and stamps each change. Across, worker-0
 * runs a000 alone (one change per round trip); on one worker it runs both (two changes per round trip).
 */
function sampleRoundTrips(marks: Int32Array, perRoundTrip: number, ms: number): Float64Array {
  const samples: number[] = [];
  let count = Atomics.load(marks, 1);
  let changes = 0;
  let since = process.hrtime.bigint();
  const end = performance.now() + ms;
  while (performance.now() < end && samples.length < 200_000) {
    const now = Atomics.load(marks, 1);
    if (now === count) continue;
    changes += (now - count) | 0;
    count = now;
    if (changes >= perRoundTrip) {
      const t = process.hrtime.bigint();
      // Two invocations seen in one read (a hop shorter than a spin): the interval is shared out evenly.
      samples.push((Number(t - since) * perRoundTrip) / changes);
      since = t;
      changes = 0;
    }
  }
  return Float64Array.from(samples);
}

/** One pair, one message in flight: across two workers (a000 on worker-0, b000 on worker-1), or on one. */
async function pairHop(across: boolean): Promise<Record<string, unknown>> {
  return withNode(2, async (node) => {
    // a000 → worker-0; then b000 → worker-1 (across), or a filler → worker-1 and b000 → worker-0 (same).
    await node.deployAgent({ name: 'a000' }, modules.get('a000')!);
    if (!across) await node.deployAgent({ name: 'fill' }, modules.get('a001')!);
    await node.deployAgent({ name: 'b000' }, modules.get('b000')!);
    // Hops the main thread still routes are stamped there, as before the direct channel (one routing per hop).
    let routedByMain = 0;
    const routings = new Float64Array(20_000);
    let last = process.hrtime.bigint();
    const route = node.router.route.bind(node.router);
    node.router.route = (message: AclMessage) => {
      const now = process.hrtime.bigint();
      if (routedByMain >= 1_000 && routedByMain - 1_000 < routings.length) routings[routedByMain - 1_000] = Number(now - last);
      routedByMain++;
      last = now;
      route(message);
    };
    kick(node, 1);
    await sleep(300);
    const start = invocations(node);
    const routed0 = routedByMain;
    const t0 = performance.now();
    await sleep(DURATION_MS);
    const hops = invocations(node) - start;
    const elapsed = performance.now() - t0;
    const figure: Record<string, unknown> = { mean_hop_us: round((elapsed * 1000) / hops), hops_per_s: Math.round((hops * 1000) / elapsed), routed_by_main_per_hop: round((routedByMain - routed0) / hops) };
    if (routedByMain > 1_100) {
      figure.hop_routed_by_main = latencyMicros(routings.subarray(0, Math.min(routedByMain - 1_000, routings.length)));
    } else {
      // Spinning here would stall a hop that needs the main thread: only once none does.
      const workers = (node.runtime as unknown as { workers: { marks: Int32Array }[] }).workers;
      figure.round_trip = latencyMicros(sampleRoundTrips(workers[0].marks, across ? 1 : 2, Math.min(DURATION_MS, 1000)));
    }
    return figure;
  });
}

function rssOf(workers: number): number {
  const out = execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--rss', String(workers)], { encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}

if (process.argv[2] === '--hop') {
  console.log(JSON.stringify({ bench: 'workers', figure: 'pair_hop', same_worker: await pairHop(false), across_workers: await pairHop(true), load: loadavg().map((l) => round(l)) }));
  process.exit(0);
}
if (process.argv[2] === '--one') {
  const t = await nodeThroughput(Number(process.argv[3]), PAIRS);
  console.log(JSON.stringify({ workers: Number(process.argv[3]), msgs_per_s: Math.round(t.wall), msgs_per_cpu_s: Math.round(t.cpu) }));
  process.exit(0);
}
if (process.argv[2] === '--rss') {
  const workers = Number(process.argv[3]);
  await withNode(workers, async (node) => {
    // Idle agents (each instantiated at deploy: every module here is distinct): the cost of threads, not traffic.
    await deployPairs(node, PAIRS);
    await sleep(500);
    console.log(Math.round(process.memoryUsage().rss / 2 ** 20));
  });
  process.exit(0);
}

const configs = [...new Set([0, 1, 2, CORES])];
const runs = new Map<string, number[]>();
const cpuRuns = new Map<string, number[]>();
const add = (key: string, value: Throughput) => {
  runs.set(key, [...(runs.get(key) ?? []), value.wall]);
  cpuRuns.set(key, [...(cpuRuns.get(key) ?? []), value.cpu]);
};
for (let run = 0; run < RUNS; run++) {
  add('naive', await naiveThroughput());
  for (const workers of configs) add(`workers_${workers}`, await nodeThroughput(workers, PAIRS));
}
const naive = median(runs.get('naive')!);
const inThread = median(runs.get('workers_0')!);
const pairs: Record<string, unknown> = { bench: 'workers', figure: 'pairs', pairs: PAIRS, cores: CORES, runs: RUNS, load: loadavg().map((l) => round(l)) };
for (const [key, values] of runs) {
  const m = median(values);
  pairs[`${key}_msgs_per_s`] = Math.round(m);
  pairs[`${key}_runs`] = values.map(Math.round);
  if (key !== 'naive') {
    pairs[`${key}_vs_naive`] = round(m / naive);
    pairs[`${key}_vs_in_thread`] = round(m / inThread);
  }
  // Per CPU second of the process: how much work a core-second buys (parallelism shows in the wall figures).
  pairs[`${key}_msgs_per_cpu_s`] = Math.round(median(cpuRuns.get(key)!));
  // Each run's figure over the naive host's of that same run (they run seconds apart), then the median: a
  // slow stretch of a shared machine then moves both sides of one ratio, not one side of the median's.
  if (key !== 'naive') pairs[`${key}_vs_naive_paired`] = round(median(values.map((v, i) => v / runs.get('naive')![i])));
}
pairs.goal = 'workers_2 >= 1.6x naive on 2 cores';
console.log(JSON.stringify(pairs));
// `--pairs`: the throughput figure alone (A/B runs of two trees alternate this).
if (process.argv[2] === '--pairs') process.exit(0);
console.log(JSON.stringify({ bench: 'workers', figure: 'pair_hop', same_worker: await pairHop(false), across_workers: await pairHop(true), load: loadavg().map((l) => round(l)) }));
const rss: Record<string, number> = {};
for (const workers of configs) rss[`workers_${workers}_rss_mib`] = rssOf(workers);
const perWorker = configs.filter((w) => w > 0).map((w) => round((rss[`workers_${w}_rss_mib`] - rss.workers_0_rss_mib) / w, 1));
console.log(JSON.stringify({ bench: 'workers', figure: 'rss', agents: PAIRS * 2, ...rss, rss_mib_per_worker: perWorker }));
