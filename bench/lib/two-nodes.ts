// Two Caxton nodes in this process forming a real cluster: A bootstraps (it makes the cluster CA), B joins it
// through A's gossip port with a join token (so B enrolls for its routing certificate), both on loopback
// with distinct data dirs. Messages between their agents cross the routing link (TLS 1.3) as in production.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

export interface TwoNodes {
  a: CaxtonNode;
  b: CaxtonNode;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`bench: ${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const aliveBoth = (node: CaxtonNode): boolean => (node.cluster?.members().filter((m) => m.state === 'alive').length ?? 0) >= 2;

export async function startTwoNodes(): Promise<TwoNodes> {
  const dirs = [mkdtempSync(join(tmpdir(), 'caxton-bench-a-')), mkdtempSync(join(tmpdir(), 'caxton-bench-b-'))];
  const started: CaxtonNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((n) => n.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const a = await CaxtonNode.start({
      config: loadConfig({ flags: { dataDir: dirs[0], nodeId: 'bench-a', bootstrap: true, bindAddr: '127.0.0.1:0', logLevel: 'silent' }, env: {} }),
      listen: false,
      gossip: true,
    });
    started.push(a);
    const token = a.cluster!.createJoinToken();
    const b = await CaxtonNode.start({
      config: loadConfig({
        flags: { dataDir: dirs[1], nodeId: 'bench-b', join: [a.cluster!.gossipAddress], token, bindAddr: '127.0.0.1:0', logLevel: 'silent' },
        env: {},
      }),
      listen: false,
      gossip: true,
    });
    started.push(b);
    if (!a.cluster?.routing || !b.cluster?.routing) throw new Error('bench: routing links are not enabled on both nodes');
    await until('both nodes alive on both sides', () => aliveBoth(a) && aliveBoth(b));
    return { a, b, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Deploys `name` (from node `via`) pinned to node `on`, and waits until both registries place it there. */
export async function deployOn(nodes: TwoNodes, via: CaxtonNode, on: CaxtonNode, name: string, module: Uint8Array, mailbox?: number): Promise<void> {
  await via.deployAgent({ name, node: on.nodeId, ...(mailbox !== undefined ? { limits: { mailbox } } : {}) }, module);
  await until(`${name} known on both nodes`, () => [nodes.a, nodes.b].every((n) => n.cluster!.registry.get(name)?.node === on.nodeId));
}
