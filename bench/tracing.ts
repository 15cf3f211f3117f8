// Issue 13's tracing figure: local ping-pong (64 exchanges in flight, through the real node) with tracing
// off, on with sampling 0 and on with sampling 1, each in a fresh process, the modes alternating run by run;
// medians side by side, as ratios to off. With BENCH_BASELINE_DIR (a checkout of the code before tracing,
// node_modules linked) the same ping-pong also runs there as `today`, for the "off within 3% of today" check.
// Spans go to an OTLP/HTTP sink in this process that reads and drops them (a collector's cost is not ours).
// Run: npx tsx bench/tracing.ts   (prints JSON lines; BENCH_RUNS, BENCH_DURATION_MS)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { median, round } from './lib/stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const IN_FLIGHT = 64;

type Mode = 'today' | 'off' | 'sampling_0' | 'sampling_1';

interface RunResult {
  mode: Mode;
  wall: number;
  cpu: number;
  spans_received: number;
  /** One exchange in flight: send to next send, in microseconds (no batching in the mailboxes). */
  hop_p50_us: number;
  hop_p99_us: number;
}

const LATENCY_SAMPLES = 20_000;

/** One run in this process: BENCH_MODE says which; prints one JSON line. */
async function runOne(mode: Mode): Promise<void> {
  const { loadConfig } = await import('../src/config/config.ts');
  const { CaxtonNode } = await import('../src/node/node.ts');
  const { benchAgent } = await import('./lib/wat.ts');
  let received = 0;
  const sink = createServer((request, response) => {
    request.on('data', () => {});
    request.on('end', () => {
      received++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.address() as { port: number }).port;
  const telemetry: Record<string, string> =
    mode === 'sampling_0' || mode === 'sampling_1'
      ? { CAXTON_TELEMETRY_OTLP_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`, CAXTON_TELEMETRY_SAMPLING_RATIO: mode === 'sampling_0' ? '0' : '1' }
      : {};
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: telemetry });
  const node = await CaxtonNode.start({ config, listen: false });
  try {
    await node.deployAgent({ name: 'ping' }, await benchAgent('ping'));
    await node.deployAgent({ name: 'pong' }, await benchAgent('pong'));
    let routes = 0;
    const route = node.router.route.bind(node.router);
    node.router.route = (message) => {
      routes++;
      route(message);
    };
    for (let i = 0; i < IN_FLIGHT; i++) {
      const id = randomUUID();
      node.router.route({ performative: 'inform', sender: 'client:bench', receiver: 'ping', message_id: id, conversation_id: id });
    }
    // Instrumenting and the JIT take the first second (measured: ~7k msg/s in the first half second).
    await sleep(1500);
    const start = routes;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(DURATION_MS);
    const routed = routes - start;
    const used = process.cpuUsage(cpu0);
    const wall = (routed * 1000) / (performance.now() - t0);
    const cpu = routed / ((used.user + used.system) / 1e6);
    await node.stop();
    const latency = await hopLatency(telemetry);
    console.log(JSON.stringify({ mode, wall, cpu, spans_received: received, hop_p50_us: latency.p50_us, hop_p99_us: latency.p99_us } satisfies RunResult));
  } finally {
    sink.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Per-hop latency with one exchange in flight, on a fresh node of the same mode. */
async function hopLatency(telemetry: Record<string, string>): Promise<{ p50_us: number; p99_us: number }> {
  const { loadConfig } = await import('../src/config/config.ts');
  const { CaxtonNode } = await import('../src/node/node.ts');
  const { benchAgent } = await import('./lib/wat.ts');
  const { latencyMicros } = await import('./lib/stats.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-'));
  const node = await CaxtonNode.start({ config: loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: telemetry }), listen: false });
  try {
    await node.deployAgent({ name: 'ping' }, await benchAgent('ping'));
    await node.deployAgent({ name: 'pong' }, await benchAgent('pong'));
    const samples = new Float64Array(LATENCY_SAMPLES);
    let n = -2_000;
    let last = process.hrtime.bigint();
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const route = node.router.route.bind(node.router);
    node.router.route = (message) => {
      const now = process.hrtime.bigint();
      if (n >= 0 && n < LATENCY_SAMPLES) samples[n] = Number(now - last);
      n++;
      last = now;
      if (n === LATENCY_SAMPLES) done();
      route(message);
    };
    const id = randomUUID();
    node.router.route({ performative: 'inform', sender: 'client:bench', receiver: 'ping', message_id: id, conversation_id: id });
    await finished;
    return latencyMicros(samples);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function spawnRun(mode: Mode, cwd: string): RunResult {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/tracing.ts'], {
    cwd,
    env: { ...process.env, BENCH_MODE: mode === 'today' ? 'off' : mode },
    encoding: 'utf8',
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) throw new Error(`${mode} run failed: ${result.stderr.slice(-2000)}`);
  return { ...(JSON.parse(line) as RunResult), mode };
}

async function drive(): Promise<void> {
  const here = fileURLToPath(new URL('..', import.meta.url));
  const baseline = process.env.BENCH_BASELINE_DIR;
  if (baseline) copyFileSync(fileURLToPath(import.meta.url), join(baseline, 'bench/tracing.ts'));
  const modes: Mode[] = [...(baseline ? (['today'] as Mode[]) : []), 'off', 'sampling_0', 'sampling_1'];
  const runs = new Map<Mode, RunResult[]>(modes.map((m) => [m, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const mode of modes) runs.get(mode)!.push(spawnRun(mode, mode === 'today' ? baseline! : here));
  }
  const off = median(runs.get('off')!.map((r) => r.wall));
  const offCpu = median(runs.get('off')!.map((r) => r.cpu));
  for (const mode of modes) {
    const list = runs.get(mode)!;
    const wall = median(list.map((r) => r.wall));
    const cpu = median(list.map((r) => r.cpu));
    console.log(
      JSON.stringify({
        bench: 'tracing',
        mode,
        runs: RUNS,
        in_flight: IN_FLIGHT,
        msgs_per_s: Math.round(wall),
        msgs_per_cpu_s: Math.round(cpu),
        ratio_to_off: round(wall / off, 3),
        ratio_to_off_cpu: round(cpu / offCpu, 3),
        runs_msgs_per_s: list.map((r) => Math.round(r.wall)),
        hop_p50_us: median(list.map((r) => r.hop_p50_us)),
        hop_p99_us: median(list.map((r) => r.hop_p99_us)),
        hop_p50_ratio_to_off: round(median(list.map((r) => r.hop_p50_us)) / median(runs.get('off')!.map((r) => r.hop_p50_us)), 3),
        otlp_requests: median(list.map((r) => r.spans_received)),
      }),
    );
  }
}

const mode = process.env.BENCH_MODE as Mode | undefined;
if (mode) await runOne(mode);
else await drive();
