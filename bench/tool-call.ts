// Issue 11's tool figures, as JSON lines (medians of RUNS runs):
//   stdio-call: one call to the real @modelcontextprotocol/server-memory over stdio through the gateway
//               (JSON-RPC over the child's pipes, the SDK client on our side), P50/P99 and calls/s.
//   agent-tool-roundtrip: client → tool-relay agent → tool → agent → client through an in-process node
//               (router, runtime, gateway), for server-memory over stdio and for the built-in state tool.
//   idle-stdio-server-rss: resident memory of one idle server-memory child (VmRSS from /proc), per server.
// Run: npx tsx bench/tool-call.ts [calls per run=2000] [runs=5]   (needs examples/build/tool-relay.wasm:
// npx tsx scripts/build-examples.ts)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { CaxtonNode } from '../src/node/node.ts';
import { McpToolGateway } from '../src/tools/mcp-tool-gateway.ts';
import { latencyMicros, median, round } from './lib/stats.ts';

const CALLS = Number(process.argv[2] ?? 2000);
const RUNS = Number(process.argv[3] ?? 5);
const repoRoot = new URL('..', import.meta.url).pathname;
const memoryBin = join(repoRoot, 'node_modules/.bin/mcp-server-memory');
const silent = { info() {}, warn() {} };
const scratch = mkdtempSync(join(tmpdir(), 'caxton-bench-tools-'));

function gatewayWith(servers: Record<string, { command: string; args: string[]; env: Record<string, string> }>): McpToolGateway {
  return new McpToolGateway({
    servers,
    callTimeoutMs: 30_000,
    maxResultBytes: 1024 * 1024,
    maxCallsPerServer: 64,
    maxCallsPerAgent: 16,
    startTimeoutMs: 30_000,
    restartBackoffMs: 250,
    restartBackoffMaxMs: 30_000,
    builtins: {},
    logger: silent,
  });
}

interface Figure { p50_us: number; p99_us: number; calls_per_s: number }

function summarize(name: string, runs: Figure[], extra: Record<string, unknown> = {}): void {
  console.log(
    JSON.stringify({
      bench: name,
      ...extra,
      calls: CALLS,
      runs: runs.length,
      p50_us: round(median(runs.map((r) => r.p50_us))),
      p99_us: round(median(runs.map((r) => r.p99_us))),
      calls_per_s: Math.round(median(runs.map((r) => r.calls_per_s))),
    }),
  );
}

async function timed(call: () => Promise<unknown>): Promise<Figure> {
  for (let i = 0; i < 100; i++) await call();
  const samples = new Float64Array(CALLS);
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t = process.hrtime.bigint();
    await call();
    samples[i] = Number(process.hrtime.bigint() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  return { ...latencyMicros(samples), calls_per_s: CALLS / seconds };
}

// ——— stdio call through the gateway ———
{
  const tools = gatewayWith({ memory: { command: memoryBin, args: [], env: { MEMORY_FILE_PATH: join(scratch, 'gateway.jsonl') } } });
  await tools.call('bench', 'memory', 'create_entities', { entities: [{ name: 'bench', entityType: 'thing', observations: ['o'] }] });
  const runs: Figure[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await timed(() => tools.call('bench', 'memory', 'search_nodes', { query: 'bench' })));
  summarize('stdio-call', runs, { server: '@modelcontextprotocol/server-memory', tool: 'search_nodes' });
  await tools.close();
}

// ——— resident memory of idle stdio servers ———
{
  const SERVERS = 5;
  const servers = Object.fromEntries(
    Array.from({ length: SERVERS }, (_, i) => [`m${i}`, { command: memoryBin, args: [], env: { MEMORY_FILE_PATH: join(scratch, `idle-${i}.jsonl`) } }]),
  );
  const tools = gatewayWith(servers);
  for (let i = 0; i < SERVERS; i++) await tools.call('bench', `m${i}`, 'read_graph', {});
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssKiB = tools.list().map((view) => {
    const status = readFileSync(`/proc/${view.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  });
  console.log(
    JSON.stringify({
      bench: 'idle-stdio-server-rss',
      server: '@modelcontextprotocol/server-memory (node)',
      servers: SERVERS,
      rss_mib_median: round(median(rssKiB) / 1024, 1),
      rss_mib_each: rssKiB.map((k) => round(k / 1024, 1)),
    }),
  );
  await tools.close();
}

// ——— agent → tool → agent through an in-process node ———
{
  const dataDir = join(scratch, 'node');
  const config = loadConfig({
    flags: { dataDir, logLevel: 'silent' },
    env: { CAXTON_MCP_SERVERS: JSON.stringify({ memory: { command: memoryBin, env: { MEMORY_FILE_PATH: join(scratch, 'node.jsonl') } } }) },
  });
  const node = await CaxtonNode.start({ config, listen: false, gossip: false });
  try {
    await node.agents.deploy({ name: 'relay', tools: { memory: '*', state: '*' } }, readFileSync(join(repoRoot, 'examples/build/tool-relay.wasm')));
    const roundTrip = (server: string, tool: string, args: Record<string, unknown>) => async () => {
      const { replies } = await node.sendMessage(
        { performative: 'request', receiver: 'relay', content: { server, tool, arguments: args } },
        { principal: 'bench', waitMs: 10_000 },
      );
      const content = replies?.[0]?.content as { outcome?: string } | undefined;
      if (content?.outcome !== 'inform') throw new Error(`unexpected answer: ${JSON.stringify(replies)}`);
    };
    await roundTrip('state', 'store', { key: 'k', value: { n: 1 } })();
    for (const [server, tool, args] of [
      ['memory', 'search_nodes', { query: 'x' }],
      ['state', 'retrieve', { key: 'k' }],
    ] as const) {
      const runs: Figure[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await timed(roundTrip(server, tool, args)));
      summarize('agent-tool-roundtrip', runs, { server, tool, backend: server === 'state' ? 'sqlite' : 'stdio', includes: 'client request + agent + tool + agent + client reply' });
    }
  } finally {
    await node.stop();
  }
}
rmSync(scratch, { recursive: true, force: true });
