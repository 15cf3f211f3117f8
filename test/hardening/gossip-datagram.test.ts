// Issue 10, finding 1: one unauthenticated `alive` datagram with Port 0 killed an unencrypted node
// (ERR_SOCKET_BAD_PORT thrown synchronously from dgram.send) and, spread by gossip, the nodes that joined it.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { PacketMessage } from '../../src/cluster/membership/messages.ts';
import { NetTransport } from '../../src/cluster/transport/net-transport.ts';
import { encodePacket } from '../../src/cluster/wire/packet.ts';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';

const running: NodeProcess[] = [];
const transports: NetTransport[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.kill('SIGKILL')));
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

const badAlive = (node: string, port: number): PacketMessage => ({
  type: 'alive',
  incarnation: 1,
  node,
  addr: Uint8Array.of(127, 0, 0, 1),
  port,
  meta: new Uint8Array(0),
  vsn: [1, 5, 2, 2, 5, 4],
});

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a hostile gossip datagram', () => {
  it('sending to port 0 or a bad host is counted, not thrown', async () => {
    const t = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0 });
    transports.push(t);
    expect(() => t.sendPackets({ host: '127.0.0.1', port: 0 }, [{ type: 'nackResp', seqNo: 1 }])).not.toThrow();
    expect(() => t.sendPackets({ host: '127.0.0.1', port: 70_000 }, [{ type: 'nackResp', seqNo: 1 }])).not.toThrow();
    expect(t.stats.sendErrors).toBe(2);
    await expect(t.pushPull({ host: '127.0.0.1', port: 0 }, { join: false, nodes: [], userState: new Uint8Array(0) }, 500)).rejects.toThrow();
  });

  it('an alive with Port 0 neither kills a node nor its peer, and the member is not admitted', async () => {
    const a = await startNode({ nodeId: 'a' });
    running.push(a);
    const b = await startNode({ nodeId: 'b', args: ['--join', `127.0.0.1:${a.gossipPort}`] });
    running.push(b);
    const packet = encodePacket([badAlive('evil', 0)], { encryptionVersion: 1, compress: false, crc: false });
    expect(packet.length).toBeLessThan(100);
    for (let i = 0; i < 5; i++) await sendDatagram(a.gossipPort, packet);
    // Also the other out-of-range port, through the other node.
    await sendDatagram(b.gossipPort, encodePacket([badAlive('evil2', 65_536)], { encryptionVersion: 1, compress: false, crc: false }));
    await sleep(1500);
    for (const node of [a, b]) {
      expect(node.child.exitCode, node.output()).toBeNull();
      const res = await fetch(`${node.url}/api/v1/cluster/members`, { headers: { authorization: `Bearer ${node.apiKey()}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { members: { id: string }[] };
      const ids = body.members.map((m) => m.id);
      expect(ids).not.toContain('evil');
      expect(ids).not.toContain('evil2');
    }
  });
});
