// A node restarted on its data directory brings back every stored agent, whatever module each runs: agents of
// several modules, interleaved by name, each back on its own module and in the state it was left in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { wat } from '../agents/fixtures.ts';

/** A minimal agent whose module differs by `tag` (a data segment), so each tag is a distinct module. */
function moduleTagged(tag: string): Promise<Uint8Array> {
  return wat(`(module (memory (export "memory") 1 1) (data (i32.const 0) "${tag}")
    (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
    (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`);
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('restore after a restart', () => {
  it('brings back agents of several modules, each on its module and in its state', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-restore-'));
    dirs.push(dataDir);
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: {} });
    const modules = await Promise.all(['a', 'b', 'c'].map(moduleTagged));
    let node = await CaxtonNode.start({ config, listen: false });
    const expected = new Map<string, { sha: string; state: string }>();
    try {
      for (let i = 0; i < 12; i++) {
        const info = await node.deployAgent({ name: `agent-${i}` }, modules[i % 3]);
        expected.set(info.name, { sha: info.module_sha256, state: 'running' });
      }
      await node.controlAgent('agent-4', 'stop');
      expected.set('agent-4', { ...expected.get('agent-4')!, state: 'stopped' });
      await node.stop();
      node = await CaxtonNode.start({ config, listen: false });
      const back = new Map(node.listAgents().map((a) => [a.name, { sha: (a as { module_sha256: string }).module_sha256, state: a.state }]));
      expect(back).toEqual(expected);
      expect(new Set([...back.values()].map((a) => a.sha)).size).toBe(3);
    } finally {
      await node.stop();
    }
  });
});
