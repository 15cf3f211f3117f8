// Issue 11's figures for the state tool, on SQLite and on PostgreSQL:
// - agent round trip: a real node (in process) runs the tool-relay agent; a request makes it call
//   state/retrieve through call_tool and reply with the result. Timed: the gateway call (agent's call_tool to
//   the CallToolResult), and request -> agent -> state tool -> agent -> reply, next to the same request to an
//   echo agent (no tool), so the difference is what the tool hop adds to an agent.
// - the built-in server call alone (argument checks, JSON, backend, CallToolResult);
// - the same tool over MCP stdio (`caxton state serve --stdio` driven by the SDK client).
// Run: npx tsx bench/state-tool.ts   (prints JSON lines; BENCH_RUNS, BENCH_CALLS; PostgreSQL is skipped when absent)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/config.ts';
import { DEFAULTS } from '../src/config/defaults.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import { CaxtonNode } from '../src/node/node.ts';
import { exampleModule } from '../test/helpers/modules.ts';
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

async function builtinFigures(kind: string, server: BuiltinToolServer, concurrency: number, calls: number): Promise<void> {
  const agent = `bench-${kind}`;
  const CALLS = calls;
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

/** request -> agent -> (state tool) -> agent -> reply, through a real node with the given state settings. */
async function agentFigures(kind: string, env: Record<string, string>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-node-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env });
  const node = await CaxtonNode.start({ config, listen: false });
  try {
    await node.deployAgent({ name: 'relay', tools: { state: ['store', 'retrieve'] } }, exampleModule('tool-relay'));
    await node.deployAgent({ name: 'echo' }, exampleModule('echo'));
    // Replies to the bench's client are caught where agents hand them to the router.
    const waiting = new Map<string, (message: AclMessage) => void>();
    const route = node.router.route.bind(node.router);
    node.router.route = (message: AclMessage) => {
      const done = message.receiver === 'client:bench' ? waiting.get(message.conversation_id as string) : undefined;
      if (done) {
        waiting.delete(message.conversation_id as string);
        done(message);
        return;
      }
      route(message);
    };
    // The gateway call alone: from the agent's call_tool to its CallToolResult.
    const gatewaySamples: number[] = [];
    const call = node.tools.call.bind(node.tools);
    node.tools.call = async (...args: Parameters<typeof call>) => {
      const t0 = process.hrtime.bigint();
      try {
        return await call(...args);
      } finally {
        gatewaySamples.push(Number(process.hrtime.bigint() - t0));
      }
    };
    const request = (receiver: string, content: unknown) =>
      new Promise<AclMessage>((resolve) => {
        const conversation = randomUUID();
        waiting.set(conversation, resolve);
        route({ performative: 'request', sender: 'client:bench', receiver, content, message_id: randomUUID(), conversation_id: conversation } as AclMessage);
      });
    const stored = await request('relay', { server: 'state', tool: 'store', arguments: { key: 'k', value: value(1) } });
    if ((stored.content as { outcome?: string }).outcome !== 'inform') throw new Error(`store through the agent failed: ${JSON.stringify(stored.content)}`);
    const calls = Math.min(CALLS, kind === 'postgres' ? 2000 : 5000);
    const viaTool: Figures[] = [];
    const viaEcho: Figures[] = [];
    const gateway: Figures[] = [];
    for (let run = 0; run < RUNS; run++) {
      viaEcho.push(await sequential(() => request('echo', { x: 1 }), calls));
      gatewaySamples.length = 0;
      const figures = await sequential(() => request('relay', { server: 'state', tool: 'retrieve', arguments: { key: 'k' } }), calls);
      viaTool.push(figures);
      // The gateway calls of the timed part (the last `calls`), at the rate the whole path allowed.
      gateway.push({ ...latencyMicros(Float64Array.from(gatewaySamples.slice(-calls))), calls_per_s: figures.calls_per_s });
    }
    report(kind, "agent call_tool -> gateway -> state tool -> CallToolResult (real node)", 'retrieve', gateway);
    report(kind, 'request -> tool-relay agent -> state tool -> agent -> reply (real node)', 'retrieve', viaTool);
    report(kind, 'request -> echo agent -> reply (same node, no tool: the baseline)', '-', viaEcho);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'caxton-bench-state-'));
try {
  const database = openDatabase(dir);
  const sqlite = createStateToolServer(await openStateBackend(DEFAULTS, database.db));
  await builtinFigures('sqlite', sqlite, 1, CALLS);
  await sqlite.close();
  database.close();
  await stdioFigures(dir);
  await agentFigures('sqlite', {});

  const unavailable = postgresUnavailableReason();
  if (unavailable) {
    console.log(JSON.stringify({ bench: 'state-tool', backend: 'postgres', skipped: unavailable }));
  } else {
    // fsync and synchronous commit on, as a production server runs.
    const server = await startPostgres({ durable: true });
    try {
      const backend = await openStateBackend({ state: { ...DEFAULTS.state, backend: 'postgres', postgres_url: server.url } }, undefined);
      const postgres = createStateToolServer(backend);
      // A durable commit costs a disk flush (~3 ms here): fewer calls keep the run short.
      await builtinFigures('postgres', postgres, DEFAULTS.state.postgres_pool_max, Math.min(CALLS, 2000));
      await postgres.close();
      await agentFigures('postgres', { CAXTON_STATE_BACKEND: 'postgres', CAXTON_STATE_POSTGRES_URL: await server.createDatabase('bench_agents') });
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
