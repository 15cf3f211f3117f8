// The bulk deploy path (AgentService.deployMany): one compile, one transaction, refusals per agent, and
// every agent back after a node restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonError } from '../../src/errors.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { exampleModule } from '../helpers/modules.ts';
import { agentWorkersEnv } from '../helpers/agent-workers.ts';

describe('bulk deploy', () => {
  it('deploys 2,000 agents of one module with one compile; they survive a restart; bad ones are refused alone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bulk-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: agentWorkersEnv() });
    let node = await CaxtonNode.start({ config, listen: false });
    try {
      const module = exampleModule('wat-echo');
      const items = Array.from({ length: 2000 }, (_, i) => ({ spec: { name: `e${i}` }, module }));
      items.push({ spec: { name: 'bad' }, module: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 9]) });
      items.push({ spec: { name: 'e7' }, module });
      const results = await node.agents.deployMany(items);
      expect(results.slice(0, 2000).every((r) => !(r instanceof Error) && r.state === 'running')).toBe(true);
      expect(results[2000]).toBeInstanceOf(CaxtonError);
      expect((results[2001] as CaxtonError).code).toBe('CONFLICT');
      expect(node.runtime.cache.compiles).toBe(1);
      const reply = await node.sendMessage({ performative: 'request', receiver: 'e1999', content: { n: 1 } }, { principal: 't', waitMs: 2000 });
      expect(reply.replies?.[0]?.performative).toBe('inform');
      await node.stop();
      node = await CaxtonNode.start({ config, listen: false });
      expect(node.listAgents()).toHaveLength(2000);
      expect(node.runtime.cache.compiles).toBe(1);
    } finally {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
