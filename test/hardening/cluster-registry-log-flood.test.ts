// What forged registry writes can make a node log is bounded. Before: 5,000 unauthenticated datagrams of 77
// bytes, each placing an agent that runs here on another node, wrote 5,000 warning lines (1 MiB of log in
// 1.5 s) on a real node: a flood fills the disk. The agent keeps running here either way.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { PacketMessage } from '../../src/cluster/membership/messages.ts';
import { encodeUpdate } from '../../src/cluster/registry/registry-codec.ts';
import { encodePacket } from '../../src/cluster/wire/packet.ts';
import { sha256Hex } from '../../src/state/module-store.ts';
import { exampleModule } from '../helpers/modules.ts';
import { api, startClusterNode, stopAll, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const running: ClusterNode[] = [];
afterEach(async () => {
  await stopAll(running.splice(0));
});

describe('a flood of registry writes claiming an agent that runs here', () => {
  it('writes a bounded number of log lines, and the agent stays', async () => {
    const n1 = await startClusterNode('logflood-1', ['--bootstrap']);
    running.push(n1);
    const module = exampleModule('echo');
    expect((await api(n1, 'POST', '/api/v1/agents', { name: 'victim', module: Buffer.from(module).toString('base64') })).status).toBe(201);
    const before = n1.output().length;
    const socket = createSocket('udp4');
    const sent = 3000;
    try {
      for (let i = 0; i < sent; i++) {
        const record = { name: 'victim', node: `ghost-${i % 7}`, version: 1, module_sha256: sha256Hex(module), capabilities: [], state: 'running' as const, limits: { memory_pages: 16, fuel: 1_000_000, mailbox: 100 } };
        const packet = encodePacket([{ type: 'user', payload: encodeUpdate({ name: 'victim', lamport: 1_000_000 + i * 1000, writer: 'ghost', record }) } as PacketMessage], {
          encryptionVersion: 1,
          compress: false,
          crc: false,
        });
        await new Promise<void>((resolve, reject) => socket.send(packet, n1.gossipPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      }
    } finally {
      socket.close();
    }
    const received = async (): Promise<number> =>
      (await api<{ figures: { name: string; value: number }[] }>(n1, 'GET', '/api/v1/cluster/performance')).body.figures.find((f) => f.name === 'registry_updates_received')?.value ?? 0;
    await waitUntil('most of the flood merged', 15_000, async () => (await received()) >= sent * 0.9);
    await new Promise((r) => setTimeout(r, 1000));
    const lines = n1.output().slice(before).split('\n').filter((l) => l.includes('"level":"warn"'));
    // Before: one line per datagram (3,000). Budgets: registry conflicts 20 + 1/s, failover 100 + 10/s.
    expect(lines.length).toBeLessThan(400);
    expect((await api<{ node: string; state: string }>(n1, 'GET', '/api/v1/agents/victim')).status).toBe(200);
    await waitUntil('victim placed here again', 10_000, async () => (await api<{ node: string }>(n1, 'GET', '/api/v1/agents/victim')).body.node === n1.id);
  });
});
