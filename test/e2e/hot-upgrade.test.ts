// Issue 3 step 6's "done when": a steady stream of requests while the agent is upgraded 10 times through
// the real node (in-process CaxtonNode); every request gets exactly one reply, counted where the router
// hands answers to clients.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { exampleModule } from '../helpers/modules.ts';
import { agentWorkersEnv } from '../helpers/agent-workers.ts';

describe('hot upgrade under load', () => {
  it('upgrades 10 times while requests stream in: no request lost, none answered twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-upgrade-'));
    const node = await CaxtonNode.start({ config: loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: agentWorkersEnv() }), listen: false });
    try {
      const versions = [exampleModule('echo'), exampleModule('wat-echo')];
      await node.deployAgent({ name: 'echo' }, versions[0]);
      // Every answer to a client passes ClientInbox.deliver: counted there, whether or not anyone waits for it.
      const repliesByConversation = new Map<string, number>();
      const deliver = node.inbox.deliver.bind(node.inbox);
      node.inbox.deliver = (message, receiver) => {
        if (receiver === 'client:tester') repliesByConversation.set(message.conversation_id, (repliesByConversation.get(message.conversation_id) ?? 0) + 1);
        return deliver(message, receiver);
      };

      let upgrading = true;
      const sent: string[] = [];
      const failures: unknown[] = [];
      const client = async () => {
        while (upgrading) {
          const result = await node.sendMessage({ performative: 'request', receiver: 'echo', content: { n: sent.length } }, { principal: 'tester', waitMs: 5_000 });
          sent.push(result.conversation_id);
          const replies = result.replies ?? [];
          if (replies.length !== 1 || replies[0].performative !== 'inform') failures.push(replies);
        }
      };
      const clients = Array.from({ length: 8 }, client);
      for (let i = 1; i <= 10; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const info = await node.upgradeAgent('echo', { name: 'echo' }, versions[i % 2]);
        expect(info.version).toBe(i + 1);
      }
      upgrading = false;
      await Promise.all(clients);
      await node.runtime.whenIdle();

      expect(failures).toEqual([]);
      expect(sent.length).toBeGreaterThan(50);
      for (const conversation of sent) expect(repliesByConversation.get(conversation), conversation).toBe(1);
      expect(repliesByConversation.size).toBe(sent.length);
      expect(node.getAgent('echo')).toMatchObject({ version: 11, state: 'running' });
      expect(node.state.agents.versions('echo').map((v) => v.version)).toEqual([11, 10, 9]);
    } finally {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
