// One unauthenticated 26-byte gossip datagram (a registry tombstone stamped Lamport 2^53-1) pinned both
// nodes' registry clocks at 2^53: every later write was refused by the peers' decoders, so a deploy, a delete
// or an upgrade never reached another node again (checked 20 s later, push-pull included). Real processes.
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import type { PacketMessage } from '../../src/cluster/membership/messages.ts';
import { encodeUpdate } from '../../src/cluster/registry/registry-codec.ts';
import { encodePacket } from '../../src/cluster/wire/packet.ts';
import { exampleModule } from '../helpers/modules.ts';
import { api, startCluster, stopAll, waitAllAlive, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const started: ClusterNode[] = [];
afterAll(() => stopAll(started));

function sendDatagram(port: number, bytes: Uint8Array): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) =>
    socket.send(bytes, port, '127.0.0.1', (e) => {
      socket.close();
      if (e) reject(e);
      else resolve();
    }),
  );
}

const listed = async (node: ClusterNode): Promise<string[]> =>
  (await api<{ agents: { name: string; node: string }[] }>(node, 'GET', '/api/v1/agents')).body.agents.map((a) => `${a.name}@${a.node}`);

const figure = async (node: ClusterNode, name: string): Promise<number | undefined> =>
  (await api<{ figures: { name: string; value: number }[] }>(node, 'GET', '/api/v1/cluster/performance')).body.figures.find((f) => f.name === name)?.value;

describe('a registry write stamped Lamport 2^53-1 from outside', () => {
  it('is refused, and deploys and deletes on either node still reach the other', async () => {
    const nodes = await startCluster(2, 'lamport');
    started.push(...nodes);
    const [n1, n2] = nodes;
    await waitAllAlive(nodes, nodes.map((n) => n.id));
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    expect((await api(n1, 'POST', '/api/v1/agents', { name: 'one', module })).status).toBe(201);
    await waitUntil('one listed on n2', 10_000, async () => (await listed(n2)).includes(`one@${n1.id}`));

    const update = encodeUpdate({ name: 'zzz', lamport: Number.MAX_SAFE_INTEGER, writer: 'mallory', record: null });
    const packet = encodePacket([{ type: 'user', payload: update } as PacketMessage], { encryptionVersion: 1, compress: false, crc: false });
    expect(packet.length).toBeLessThan(40);
    await sendDatagram(n1.gossipPort, packet);
    await waitUntil('the forged write refused', 5000, async () => ((await figure(n1, 'registry_entries_refused_ahead')) ?? 0) >= 1);
    expect(await figure(n1, 'registry_lamport')).toBeLessThan(1000);

    expect((await api(n1, 'POST', '/api/v1/agents', { name: 'two', module })).status).toBe(201);
    expect((await api(n2, 'POST', '/api/v1/agents', { name: 'three', module })).status).toBe(201);
    const deleted = await fetch(`${n1.url}/api/v1/agents/one`, { method: 'DELETE', headers: { authorization: `Bearer ${n1.apiKey()}` } });
    expect(deleted.status).toBe(204);
    const want = [`three@${n2.id}`, `two@${n1.id}`];
    // Before the fix both nodes kept their own view for good: n1 [two], n2 [one, three].
    await waitUntil('both nodes list two and three, and not one', 10_000, async () =>
      (await Promise.all([listed(n1), listed(n2)])).every((rows) => JSON.stringify([...rows].sort()) === JSON.stringify(want)),
    );
  });
});
