// Issue 3's figures: fuel overhead (compute-bound agent and ping-pong, instrumented vs plain, side by side),
// agent start from a cached module (P50/P99), deploy time of a 1 MiB module.
// Run: npx tsx bench/isolation.ts   (prints JSON lines). Memory at 10k/100k agents: bench/agents-rss.ts.
import { AgentInstance } from '../src/agents/agent-instance.ts';
import { AgentRuntime } from '../src/agents/agent-runtime.ts';
import type { HostBindings } from '../src/agents/host-imports.ts';
import { InstanceHost, realTimers } from '../src/agents/host-imports.ts';
import { ModuleCache, sha256Hex } from '../src/agents/module-cache.ts';
import { sharedFuelInstrumenter } from '../src/agents/metering/shared-instrumenter.ts';
import { FUEL_SLICE, FuelMeter } from '../src/agents/metering/fuel-meter.ts';
import { METER_MODULE, REFILL_IMPORT } from '../src/agents/metering/metering-names.ts';
import { RUNTIME_DEFAULTS } from '../src/agents/runtime-defaults.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import type { AgentSpec } from '../src/node/services.ts';
import { latencyMicros, median, round } from './lib/stats.ts';
import { benchAgent } from './lib/wat.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const print = (figure: Record<string, unknown>) => console.log(JSON.stringify(figure));
const wabt = await (await import('wabt')).default();
const wat = (source: string) => new Uint8Array(wabt.parseWat('m.wat', source, { bulk_memory: true }).toBinary({}).buffer);

// A compute-bound agent: xorshift32 over a 64 KiB buffer, checksum folded in (about 12 instructions a loop).
const compute = wat(`(module (memory (export "memory") 2)
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "handle_message") (param i32 i32) (result i32) (drop (call $work (i32.const 2000000))) (i32.const 0))
  (func $work (export "work") (param $n i32) (result i32) (local $x i32) (local $sum i32) (local $i i32)
    (local.set $x (i32.const 2463534242))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (i32.store (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 65535)) (local.get $x))
      (local.set $sum (i32.add (local.get $sum) (i32.load (i32.and (local.get $x) (i32.const 65532)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $sum)))`);

const instrumenter = sharedFuelInstrumenter();

async function computeOverhead(): Promise<void> {
  const plain = new WebAssembly.Instance(await WebAssembly.compile(compute)).exports;
  const meteredModule = await WebAssembly.compile(await instrumenter.instrument(compute) as Uint8Array<ArrayBuffer>);
  // A refill that never comes: the tank is filled far beyond the work below (the fuel cost alone).
  const metered = new WebAssembly.Instance(meteredModule, { [METER_MODULE]: { [REFILL_IMPORT]: () => 0 } }).exports;
  const fuel = metered.__caxton_fuel as WebAssembly.Global;
  const time = (e: WebAssembly.Exports, refuel: boolean) => {
    const work = e.work as (n: number) => number;
    const t = performance.now();
    for (let i = 0; i < 20; i++) {
      if (refuel) fuel.value = 1n << 40n;
      work(1_000_000);
    }
    return performance.now() - t;
  };
  time(plain, false); time(metered, true);
  const ratios: number[] = [];
  for (let r = 0; r < RUNS; r++) ratios.push(time(metered, true) / time(plain, false));
  print({ figure: 'fuel_overhead_compute', ratio_instrumented_over_plain: round(median(ratios), 3), runs: RUNS, goal: '<= 1.5' });

  // The wall-clock bound's cost: the same work given its fuel in slices of FUEL_SLICE through a FuelMeter (a
  // host call and a clock read per slice), against one full tank.
  const meter = new FuelMeter(1e15, 1e9);
  const sliced = new WebAssembly.Instance(meteredModule, { [METER_MODULE]: meter.imports() }).exports;
  meter.attach(sliced, 2);
  const slicedWork = sliced.work as (n: number) => number;
  const timeSliced = () => {
    const t = performance.now();
    for (let i = 0; i < 20; i++) {
      meter.refuel();
      slicedWork(1_000_000);
    }
    return performance.now() - t;
  };
  timeSliced();
  const sliceRatios: number[] = [];
  for (let r = 0; r < RUNS; r++) sliceRatios.push(timeSliced() / time(metered, true));
  print({ figure: 'wall_clock_slices_compute', ratio_sliced_over_one_tank: round(median(sliceRatios), 3), fuel_slice: FUEL_SLICE, runs: RUNS });
}

async function pingPong(cache: ModuleCache, durationMs: number): Promise<number> {
  let runtime!: AgentRuntime;
  let sends = 0;
  runtime = new AgentRuntime({ nodeId: 'bench', cache, sink: { route: (m: AclMessage) => { sends++; runtime.deliver(m, m.receiver as string); } } });
  const spec = (name: string): AgentSpec => ({ name, capabilities: [], tools: {}, limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 10_000 } });
  const ping = await benchAgent('ping');
  const pong = await benchAgent('pong');
  await runtime.start(spec('ping'), sha256Hex(ping), 1, ping);
  await runtime.start(spec('pong'), sha256Hex(pong), 1, pong);
  for (let i = 0; i < 64; i++) runtime.deliver({ performative: 'inform', sender: 'client:b', receiver: 'ping', message_id: `k${i}`, conversation_id: `k${i}` }, 'ping');
  await new Promise((r) => setTimeout(r, 200));
  const before = sends;
  const t = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const rate = ((sends - before) / (performance.now() - t)) * 1000;
  await runtime.shutdown();
  return rate;
}

async function pingPongOverhead(): Promise<void> {
  const plainRates: number[] = [];
  const meteredRates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    plainRates.push(await pingPong(ModuleCache.unmetered(), 1000));
    meteredRates.push(await pingPong(new ModuleCache(), 1000));
  }
  print({
    figure: 'fuel_overhead_pingpong',
    plain_msgs_per_s: Math.round(median(plainRates)),
    instrumented_msgs_per_s: Math.round(median(meteredRates)),
    ratio_time_instrumented_over_plain: round(median(plainRates) / median(meteredRates), 3),
    runs: RUNS,
  });
}

function bindings(): HostBindings {
  return {
    agentName: 'a', limits: { ...RUNTIME_DEFAULTS }, timers: realTimers, now: () => Date.now(), log() {},
    toolGranted: () => false, permissionDenied() {}, nextToolCallId: () => 1, pendingToolCalls: () => 0, timerFired() {}, sends: { take: () => true },
  };
}

async function agentStart(): Promise<void> {
  for (const name of ['echo-wat', 'c-clock'] as const) {
    let bytes: Uint8Array;
    if (name === 'echo-wat') bytes = await benchAgent('pong');
    else {
      try {
        bytes = new Uint8Array((await import('node:fs')).readFileSync('examples/build/c-clock.wasm'));
      } catch {
        continue;
      }
    }
    const compiled = await new ModuleCache().load(bytes);
    const samples = new Float64Array(5000);
    for (let i = -500; i < samples.length; i++) {
      const t = process.hrtime.bigint();
      const instance = new AgentInstance(compiled, new InstanceHost(bindings()), 10_000_000);
      instance.init();
      if (i >= 0) samples[i] = Number(process.hrtime.bigint() - t);
    }
    const { p50_us, p99_us } = latencyMicros(samples);
    print({ figure: 'agent_start_from_cached_module', module: name, bytes: bytes.length, p50_us, p99_us, goal: 'p50 <= 1000 us' });
  }
}

/** A valid agent of about `target` bytes: many small functions with loops (what a compiler emits). */
function bigModule(target: number): Uint8Array {
  const fns: string[] = [];
  const body = `(local $i i32) (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get 0)))
      (i32.store (i32.and (local.get $i) (i32.const 1020)) (i32.add (local.get $i) (i32.mul (local.get 0) (i32.const 7))))
      (if (i32.and (local.get $i) (i32.const 1)) (then (local.set $i (i32.add (local.get $i) (i32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l))) (local.get $i)`;
  const approxPerFn = 64;
  for (let i = 0; i < target / approxPerFn; i++) fns.push(`(func $f${i} (param i32) (result i32) ${body})`);
  return wat(`(module (memory (export "memory") 2)
    (func (export "agent_alloc") (param i32) (result i32) (i32.const 4096))
    (func (export "handle_message") (param i32 i32) (result i32) (drop (call $f0 (i32.const 3))) (i32.const 0))
    ${fns.join('\n')})`);
}

async function deployBigModule(): Promise<void> {
  const bytes = bigModule(1024 * 1024);
  const times: number[] = [];
  const instrumentTimes: number[] = [];
  for (let r = 0; r < Math.min(RUNS, 3); r++) {
    bytes[bytes.length - 1] = bytes[bytes.length - 1]; // same bytes: a fresh cache each run, so no reuse
    const t0 = performance.now();
    await instrumenter.instrument(bytes);
    instrumentTimes.push(performance.now() - t0);
    const runtime = new AgentRuntime({ nodeId: 'bench', sink: { route() {} } });
    const t = performance.now();
    await runtime.start({ name: 'big', capabilities: [], tools: {}, limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 10 } }, sha256Hex(bytes), 1, bytes);
    times.push(performance.now() - t);
    await runtime.shutdown();
  }
  print({ figure: 'deploy_1mib_module', bytes: bytes.length, deploy_ms: Math.round(median(times)), instrument_ms: Math.round(median(instrumentTimes)), note: 'runtime deploy: validate + instrument (worker) + compile + instantiate + agent_init' });
}

await computeOverhead();
await pingPongOverhead();
await agentStart();
await deployBigModule();
await instrumenter.close();
