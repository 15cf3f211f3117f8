// A peer with a valid certificate that completes hello and then never reads, or reads and never
// acknowledges: what was written to it must come back undelivered (its senders get `failure` LINK_LOST)
// within routing.ack_timeout_ms, not wait in silence for as long as the connection stays open.
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeValueFrame, FrameType, ROUTING_PROTOCOL_VERSION } from '../../../src/cluster/routing/frames.ts';
import { message, nodeTls, startNodes, stopNodes, until, type TestNode } from './link-fixture.ts';

let nodes: Map<string, TestNode> | undefined;
let hostile: TLSSocket | undefined;
afterEach(async () => {
  hostile?.destroy();
  hostile = undefined;
  if (nodes) await stopNodes(nodes);
  nodes = undefined;
});

const ACK_TIMEOUT_MS = 400;

/** Connects to `a` as `node-b`, says hello, then reads what `reads` says and never writes an ack. */
async function silentPeer(a: TestNode, ca: Parameters<typeof nodeTls>[0], reads: boolean): Promise<TLSSocket> {
  const id = await nodeTls(ca, 'node-b');
  const socket = connect({ host: '127.0.0.1', port: a.port, ca: id.caPem, key: id.keyPem, cert: id.certPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
  socket.on('error', () => {});
  socket.on('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: 'node-b', i: 'silent', f: [] })));
  socket.once('data', () => {
    if (!reads) socket.pause();
  });
  await until(() => a.links.linkStates().some((l) => l.node === 'node-b' && l.up));
  return socket;
}

describe('a peer that does not acknowledge what it is sent', () => {
  for (const reads of [true, false]) {
    it(`${reads ? 'reads but never acknowledges' : 'never reads'}: every message comes back undelivered within ack_timeout_ms`, async () => {
      const started = await startNodes(['node-a'], { settings: { ackTimeoutMs: ACK_TIMEOUT_MS } });
      nodes = started.nodes;
      const a = nodes.get('node-a') as TestNode;
      const undelivered: string[] = [];
      a.links.onUndelivered((_node, items, reason) => {
        for (const _ of items) undelivered.push(reason);
      });
      hostile = await silentPeer(a, started.ca, reads);
      const sent = 500;
      for (let i = 0; i < sent; i++) expect(a.links.sendMessage('node-b', message('agent-x', 'agent-y', { pad: 'x'.repeat(200) }), 'agent-y')).toBe('queued');
      // Before the fix they stayed held (queuedMessages 500) with no undelivered report for as long as the
      // connection stayed open.
      await until(() => undelivered.length === sent, ACK_TIMEOUT_MS * 20);
      expect(new Set(undelivered)).toEqual(new Set(['LINK_LOST']));
      expect(a.links.linkStates().find((l) => l.node === 'node-b')?.queuedMessages).toBe(0);
    });
  }

  it('a peer that acknowledges keeps its link past ack_timeout_ms of steady traffic', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b'], { settings: { ackTimeoutMs: ACK_TIMEOUT_MS } }));
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    let received = 0;
    let undelivered = 0;
    b.links.onMessage(() => received++);
    a.links.onUndelivered((_node, items) => (undelivered += items.length));
    const until3x = Date.now() + ACK_TIMEOUT_MS * 3;
    let sent = 0;
    while (Date.now() < until3x) {
      a.links.sendMessage('node-b', message('agent-x', 'agent-y'), 'agent-y');
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => received === sent);
    expect(undelivered).toBe(0);
    expect(a.links.linkStates().find((l) => l.node === 'node-b')?.up).toBe(true);
  });
});
