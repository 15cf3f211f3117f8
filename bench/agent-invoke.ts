// What one invocation of an agent module costs by itself, without the node around it: handle_message on a
// typical request (the envelope the host writes), raw and with Caxton's fuel metering, plus the fuel one
// invocation is charged. Shows what an SDK or build change does to the agent's own share of a message.
// Usage: npx tsx bench/agent-invoke.ts [module.wasm ...]   (default: the echo examples; prints JSON lines)
import { readFileSync } from 'node:fs';
import { FuelInstrumenter } from '../src/agents/metering/fuel-instrumenter.ts';
import { median, round } from './lib/stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const INVOCATIONS = 200_000;
const modules = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : ['examples/build/echo.wasm', 'examples/build/c-echo.wasm', 'examples/build/wat-echo.wasm'];

/** A request as the host delivers it: sender, receiver, content, conversation, reply_with and message id. */
const request = Buffer.from(JSON.stringify({
  performative: 'request', sender: 'client:8f2a7c1e-77aa-4d1c-9d0e-5b1c2f3a4b5c', receiver: 'echo', content: { n: 1 },
  conversation_id: '7d1f0c7e-3b9a-4f0e-8d6a-0a1b2c3d4e5f', reply_with: 'r-1f0c7e3b9a4f',
  message_id: '0193e6a2-7c4d-7a1b-9c2d-3e4f5a6b7c8d',
}));

interface Exports {
  memory: WebAssembly.Memory;
  agent_alloc(len: number): number;
  handle_message(ptr: number, len: number): number;
  _initialize?(): void;
  __caxton_refuel?(): void;
  __caxton_used?(): number;
  __caxton_budget?: WebAssembly.Global;
  __caxton_memory_limit?: WebAssembly.Global;
}

function instantiate(module: WebAssembly.Module): Exports {
  const imports: WebAssembly.Imports = {
    caxton: { send_message: () => 0, log: () => {}, now_micros: () => 0n, random_fill: () => 0, agent_name: () => 0 },
    __caxton_meter: { refill: () => 0 },
  };
  const exports = new WebAssembly.Instance(module, imports).exports as unknown as Exports;
  if (exports.__caxton_budget) {
    exports.__caxton_budget.value = 10_000_000n;
    exports.__caxton_memory_limit!.value = 256;
  }
  exports.__caxton_refuel?.();
  exports._initialize?.();
  return exports;
}

function invoke(agent: Exports): number {
  agent.__caxton_refuel?.();
  const ptr = agent.agent_alloc(request.length);
  new Uint8Array(agent.memory.buffer, ptr, request.length).set(request);
  return agent.handle_message(ptr, request.length);
}

/** Microseconds per invocation over INVOCATIONS, after a warm-up. */
function microsPerInvocation(agent: Exports): number {
  for (let i = 0; i < 20_000; i++) invoke(agent);
  const start = process.hrtime.bigint();
  for (let i = 0; i < INVOCATIONS; i++) invoke(agent);
  return Number(process.hrtime.bigint() - start) / INVOCATIONS / 1000;
}

const instrumenter = new FuelInstrumenter();
for (const file of modules) {
  const bytes = new Uint8Array(readFileSync(file));
  const raw = new WebAssembly.Module(bytes);
  const metered = new WebAssembly.Module(Uint8Array.from(await instrumenter.instrument(bytes)));
  const rawUs: number[] = [];
  const meteredUs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    rawUs.push(microsPerInvocation(instantiate(raw)));
    meteredUs.push(microsPerInvocation(instantiate(metered)));
  }
  const agent = instantiate(metered);
  const result = invoke(agent);
  console.log(JSON.stringify({
    bench: 'agent-invoke', module: file, bytes: bytes.length, result, runs: RUNS,
    raw_us: round(median(rawUs), 2), metered_us: round(median(meteredUs), 2),
    metering_ratio: round(median(meteredUs) / median(rawUs), 2), fuel_per_invocation: agent.__caxton_used!(),
  }));
}
await instrumenter.close();
