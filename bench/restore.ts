// How long a node takes to come back with N stored agents of one module: deploy them (bulk path), stop the
// node, start it again on the same data directory, and time the start (the agents' restore is most of it).
// Run: npx tsx bench/restore.ts [N=20000]   (CAXTON_AGENTS_WORKERS passes through; one JSON line)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { CaxtonNode } from '../src/node/node.ts';

const N = Number(process.argv[2] ?? 20_000);
const wabt = await (await import('wabt')).default();
const agent = new Uint8Array(
  wabt.parseWat('a.wat', `(module (memory (export "memory") 1 1)
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`).toBinary({}).buffer,
);
const dataDir = mkdtempSync(join(tmpdir(), 'caxton-restore-'));
const env = process.env.CAXTON_AGENTS_WORKERS === undefined ? {} : { CAXTON_AGENTS_WORKERS: process.env.CAXTON_AGENTS_WORKERS };
const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env });
let node = await CaxtonNode.start({ config, listen: false });
try {
  const BATCH = 10_000;
  for (let from = 0; from < N; from += BATCH) {
    await node.agents.deployMany(Array.from({ length: Math.min(BATCH, N - from) }, (_, k) => ({ spec: { name: `a${from + k}` }, module: agent })));
  }
  await node.stop();
  const t = performance.now();
  node = await CaxtonNode.start({ config, listen: false });
  const restartS = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ bench: 'restore', agents: N, agents_workers: config.agents.workers, restart_s: Math.round(restartS * 1000) / 1000, restored: node.listAgents().length }));
} finally {
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
