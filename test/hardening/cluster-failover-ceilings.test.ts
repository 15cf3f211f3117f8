// A joined peer (here with a join token; anyone while gossip is unencrypted) publishes registry records of
// its own agents past the ceilings a deploy here would accept, then leaves: failover used to start them here
// as they were. Before: a real node ran `ams` (a system agent's name: the copy is shadowed for good) and `hog`
// with fuel and mailbox 2^53-1 (agents.max_fuel 1e9, mailbox at most 1e6). Now they stay unplaced, logged.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterService } from '../../src/cluster/cluster-service.ts';
import { loadConfig } from '../../src/config/config.ts';
import { sha256Hex } from '../../src/state/module-store.ts';
import { exampleModule } from '../helpers/modules.ts';
import { api, startClusterNode, stopAll, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const started: ClusterNode[] = [];
let peer: ClusterService | undefined;
afterAll(async () => {
  await peer?.stop(false);
  await stopAll(started);
});

interface AgentRow {
  name: string;
  node: string;
  state: string;
  limits: { fuel: number; mailbox: number };
}

describe('failover takes over only what this node would deploy', () => {
  it("records past this node's ceilings, or naming a system agent, stay unplaced; a fitting one is taken over", async () => {
    const n1 = await startClusterNode('ceil-1', ['--bootstrap']);
    started.push(n1);
    const token = (await api<{ token: string }>(n1, 'POST', '/api/v1/cluster/token', {})).body.token;
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-ceilings-peer-'));
    const config = loadConfig({ env: {}, flags: { dataDir, bindAddr: '127.0.0.1:0', apiAddr: '127.0.0.1:0', join: [`127.0.0.1:${n1.gossipPort}`], token } });
    const quiet = (): void => {};
    peer = await ClusterService.start({ config, nodeId: 'peer', version: '9.9.9', logger: { info: quiet, warn: quiet, debug: quiet } });
    const module = exampleModule('echo');
    peer.routing?.onRequest('module.get', () => ({ ok: module }));
    const huge = Number.MAX_SAFE_INTEGER;
    const record = (name: string, limits: { fuel: number; mailbox: number }) => ({
      name,
      node: 'peer',
      version: 1,
      module_sha256: sha256Hex(module),
      capabilities: [],
      state: 'running' as const,
      limits: { memory_pages: 16, ...limits },
    });
    peer.registry.publish(record('ams', { fuel: 1_000_000, mailbox: 100 }));
    peer.registry.publish(record('hog', { fuel: huge, mailbox: 100 }));
    peer.registry.publish(record('deep', { fuel: 1_000_000, mailbox: huge }));
    peer.registry.publish(record('fits', { fuel: 1_000_000, mailbox: 100 }));
    const agents = async (): Promise<AgentRow[]> => (await api<{ agents: AgentRow[] }>(n1, 'GET', '/api/v1/agents')).body.agents;
    await waitUntil('n1 lists the peer records', 10_000, async () => (await agents()).length === 4);

    await peer.stop(true);
    peer = undefined;
    await waitUntil('fits taken over by n1', 15_000, async () => (await agents()).some((a) => a.name === 'fits' && a.node === n1.id && a.state === 'running'));
    await new Promise((r) => setTimeout(r, 1500)); // a few more failover checks
    const rows = await agents();
    for (const name of ['ams', 'hog', 'deep']) {
      expect(rows.find((a) => a.name === name), name).toMatchObject({ node: 'peer', state: 'unplaced' });
    }
    const refusals = n1.output().split('\n').filter((l) => l.includes('not taking over an agent whose registry record'));
    // One line per refused write, not one per check.
    expect(refusals).toHaveLength(3);
    expect(refusals.join('\n')).toMatch(/reserved for a system agent/);
    expect(refusals.join('\n')).toMatch(/agents\.max_fuel/);
    expect(refusals.join('\n')).toMatch(/limits\.mailbox/);
  });
});
