// agents.max_table_elements, agents.log_rate and agents.log_burst configure the real node, not only the
// runtime's defaults: a node started with small values refuses a module over the table bound at deploy and
// keeps only log_burst lines of a flood.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { agentModule } from './fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startNode(env: Record<string, string>): Promise<CaxtonNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-limit-keys-'));
  dirs.push(dataDir);
  return CaxtonNode.start({ config: loadConfig({ flags: { dataDir, logLevel: 'silent' }, env }), listen: false });
}

describe('agent limit keys on a real node', () => {
  it('agents.max_table_elements bounds the tables a deploy may declare', async () => {
    const node = await startNode({ CAXTON_AGENTS_MAX_TABLE_ELEMENTS: '50', CAXTON_AGENTS_WORKERS: '0' });
    try {
      const small = await agentModule(() => ({ extra: '(table 40 funcref)' }));
      const large = await agentModule(() => ({ extra: '(table 60 funcref)' }));
      await expect(node.deployAgent({ name: 'small' }, small)).resolves.toMatchObject({ name: 'small' });
      await expect(node.deployAgent({ name: 'large' }, large)).rejects.toMatchObject({ code: 'INVALID_MODULE', details: { table_elements: 60, limit: 50 } });
    } finally {
      await node.stop();
    }
  });

  it.each(['0', '1'])('agents.log_rate and log_burst bound what an agent logs (workers %s)', async (workers) => {
    const node = await startNode({ CAXTON_AGENTS_LOG_RATE: '1', CAXTON_AGENTS_LOG_BURST: '5', CAXTON_AGENTS_WORKERS: workers });
    try {
      const flooder = await agentModule((s) => ({
        handle: `(local $i i32)
          (loop $l
            (call $log (i32.const 2) ${s('flood')})
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))
          (i32.const 0)`,
      }));
      await node.deployAgent({ name: 'flooder' }, flooder);
      await node.sendMessage({ performative: 'inform', receiver: 'flooder', content: {} }, { principal: 'test' });
      let lines: { message: string }[] = [];
      for (let i = 0; i < 100 && lines.length < 5; i++) {
        lines = (await node.agentLogs('flooder', { limit: 500 })) as { message: string }[];
        if (lines.length < 5) await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 100));
      lines = (await node.agentLogs('flooder', { limit: 500 })) as { message: string }[];
      expect(lines.filter((l) => l.message === 'flood')).toHaveLength(5);
    } finally {
      await node.stop();
    }
  });
});
