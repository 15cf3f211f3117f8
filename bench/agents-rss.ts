// Issue 3's scale figures: deploy N agents of one module through the real node (in-process CaxtonNode:
// validation, SQLite, runtime), give each one message, then resident memory after a full GC.
// Deploys in batches through AgentService.deployMany (the bulk path).
// Run: node --expose-gc --import tsx bench/agents-rss.ts 10000   (one JSON line; one N per process)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime } from '../src/agents/agent-runtime.ts';
import { loadConfig } from '../src/config/config.ts';
import { CaxtonNode } from '../src/node/node.ts';

const N = Number(process.argv[2] ?? 10_000);
const wabt = await (await import('wabt')).default();
// Counts messages in a global: real (if tiny) per-agent state, 1 page of memory.
const agent = new Uint8Array(wabt.parseWat('a.wat', `(module (memory (export "memory") 1 1) (global $n (mut i32) (i32.const 0))
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_message") (param i32 i32) (result i32) (global.set $n (i32.add (global.get $n) (i32.const 1))) (i32.const 0)))`).toBinary({}).buffer);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rssMiB = () => {
  gc();
  return Math.round(process.memoryUsage().rss / 1048576);
};

const dataDir = mkdtempSync(join(tmpdir(), 'caxton-rss-'));
// CAXTON_AGENTS_WORKERS and CAXTON_AGENTS_MAX_LIVE_INSTANCES pass through (default: agents.workers auto).
const env = Object.fromEntries(['CAXTON_AGENTS_WORKERS', 'CAXTON_AGENTS_MAX_LIVE_INSTANCES'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
const node = await CaxtonNode.start({ config: loadConfig({ flags: { dataDir, logLevel: 'silent' }, env }), listen: false });
try {
  const baseline = rssMiB();
  const t = performance.now();
  const BATCH = 10_000;
  for (let from = 0; from < N; from += BATCH) {
    const items = Array.from({ length: Math.min(BATCH, N - from) }, (_, k) => ({ spec: { name: `a${from + k}`, limits: { mailbox: 16 } }, module: agent }));
    const results = await node.agents.deployMany(items);
    if (results.some((r) => r instanceof Error)) throw results.find((r) => r instanceof Error);
  }
  const deployMs = performance.now() - t;
  const afterDeploy = rssMiB();
  const t2 = performance.now();
  for (let i = 0; i < N; i++) {
    node.router.route({ performative: 'inform', sender: 'client:bench', receiver: `a${i}`, message_id: `m${i}`, conversation_id: `m${i}` });
    if (i % 1000 === 999) await node.runtime.whenIdle();
  }
  await node.runtime.whenIdle();
  const handleMs = performance.now() - t2;
  const handled = node.runtime.list().reduce((s, a) => s + a.stats.invocations, 0);
  // Live instances are counted by the in-thread runtime only (agents.workers 0); with workers, agents per thread.
  const live = node.runtime instanceof AgentRuntime ? node.runtime.live : undefined;
  const agentsPerThread = Object.fromEntries(node.runtime.threadFigures().map((f) => [f.thread, f.agents]));
  console.log(JSON.stringify({
    figure: 'agents_rss', agents: N, handled, deploy_per_s: Math.round(N / (deployMs / 1000)), deploy_s: Math.round(deployMs) / 1000,
    first_message_all_s: Math.round(handleMs) / 1000, live_instances: live?.size ?? null, evicted: live?.evicted ?? null, agents_per_thread: agentsPerThread,
    rss_mib_baseline: baseline, rss_mib_deployed: afterDeploy, rss_mib_after_one_message_each: rssMiB(),
    compiles: node.runtime.cache.compiles, exec_argv: process.execArgv.filter((a) => !a.includes('tsx')),
  }));
} finally {
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
