// Issue 11's figures for the state tool: a call to the built-in `state` server (argument checks, JSON, the
// backend, the CallToolResult) as the gateway makes it for an agent, on SQLite and on PostgreSQL; and the
// same tool over MCP stdio (`caxton state serve --stdio` driven by the SDK client). The agent's own hop
// into and out of the gateway is not included here (see the report: the gateway lives on the tools branch).
// Run: npx tsx bench/state-tool.ts   (prints JSON lines; BENCH_RUNS, BENCH_CALLS; PostgreSQL is skipped when absent)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { DEFAULTS } from '../src/config/defaults.ts';
import { openDatabase } from '../src/state/database.ts';
import { openStateBackend } from '../src/tools/state/open-state-backend.ts';
import type { BuiltinToolServer } from '../src/tools/builtin-server.ts';
import { createStateToolServer } from '../src/tools/state/state-tool.ts';
import { postgresUnavailableReason, startPostgres } from '../test/helpers/postgres.ts';
import { latencyMicros, median, round } from './lib/stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const STDIO_CALLS = Math.min(CALLS, 5_000);
const KEYS = 1000;
/** A small agent value, as a counter or a session record would be. */
const value = (i: number) => ({ n: i, owner: 'bench-agent', tags: ['a', 'b'], note: 'x'.repeat(64) });

interface Figures {
  p50_us: number;
  p99_us: number;
  calls_per_s: number;
}

type Call = (i: number) => Promise<unknown>;

/** One call at a time: latency per call and sequential calls/s. */
async function sequential(call: Call, calls: number): Promise<Figures> {
  for (let i = 0; i < Math.min(1000, calls); i++) await call(i); // warm-up: statements prepared, JIT
  const samples = new Float64Array(calls);
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await call(i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...latencyMicros(samples), calls_per_s: Math.round(calls / seconds) };
}

/** `inFlight` callers at once: throughput when agents call together (what a pool of connections buys). */
async function concurrent(call: Call, calls: number, inFlight: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < calls) await call(next++);
    }),
  );
  return Math.round(calls / (Number(process.hrtime.bigint() - started) / 1e9));
}

async function checked(server: BuiltinToolServer, agent: string, tool: string, args: Record<string, unknown>): Promise<void> {
  const result = await server.call(agent, tool, args);
  if (result.isError) throw new Error(`${tool}: ${result.content[0].text}`);
}

function report(backend: string, path: string, tool: string, runs: Figures[], extra: Record<string, unknown> = {}): void {
  console.log(
    JSON.stringify({
      bench: 'state-tool',
      backend,
      path,
      tool,
      runs: runs.length,
      p50_us: round(median(runs.map((r) => r.p50_us))),
      p99_us: round(median(runs.map((r) => r.p99_us))),
      calls_per_s: Math.round(median(runs.map((r) => r.calls_per_s))),
      ...extra,
    }),
  );
}

async function builtinFigures(kind: string, server: BuiltinToolServer, concurrency: number): Promise<void> {
  const agent = `bench-${kind}`;
  const store: Figures[] = [];
  const retrieve: Figures[] = [];
  const throughput: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    store.push(await sequential((i) => checked(server, agent, 'store', { key: `k${i % KEYS}`, value: value(i) }), CALLS));
    retrieve.push(await sequential((i) => checked(server, agent, 'retrieve', { key: `k${i % KEYS}` }), CALLS));
    throughput.push(await concurrent((i) => checked(server, agent, 'retrieve', { key: `k${i % KEYS}` }), CALLS, concurrency));
  }
  report(kind, 'builtin tool server call', 'store', store);
  report(kind, 'builtin tool server call', 'retrieve', retrieve, { [`retrieve_calls_per_s_${concurrency}_in_flight`]: Math.round(median(throughput)) });
}

async function stdioFigures(dataDir: string): Promise<void> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [fileURLToPath(new URL('../bin/caxton.mjs', import.meta.url)), '--data-dir', dataDir, 'state', 'serve', '--stdio', '--agent', 'bench-stdio'],
    env: { PATH: process.env.PATH ?? '' },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  const runs: Figures[] = [];
  await client.callTool({ name: 'store', arguments: { key: 'k', value: value(1) } });
  for (let run = 0; run < RUNS; run++) {
    runs.push(await sequential(() => client.callTool({ name: 'retrieve', arguments: { key: 'k' } }), STDIO_CALLS));
  }
  await client.close();
  report('sqlite', 'MCP stdio: SDK client -> caxton state serve --stdio', 'retrieve', runs);
}

const dir = mkdtempSync(join(tmpdir(), 'caxton-bench-state-'));
try {
  const database = openDatabase(dir);
  const sqlite = createStateToolServer(await openStateBackend(DEFAULTS, database.db));
  await builtinFigures('sqlite', sqlite, 1);
  await sqlite.close();
  database.close();
  await stdioFigures(dir);

  const unavailable = postgresUnavailableReason();
  if (unavailable) {
    console.log(JSON.stringify({ bench: 'state-tool', backend: 'postgres', skipped: unavailable }));
  } else {
    // fsync and synchronous commit on, as a production server runs.
    const server = await startPostgres({ durable: true });
    try {
      const backend = await openStateBackend({ state: { ...DEFAULTS.state, backend: 'postgres', postgres_url: server.url } }, undefined);
      const postgres = createStateToolServer(backend);
      await builtinFigures('postgres', postgres, DEFAULTS.state.postgres_pool_max);
      await postgres.close();
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
