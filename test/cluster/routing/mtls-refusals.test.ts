// Who may open a routing link: only a client whose certificate chains to the cluster CA and names the node
// id it says hello with (and, with isMember, a member). Probed with Node's own TLS client.
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa } from '../../../src/cluster/pki/certificates.ts';
import { decodeValue, encodeValueFrame, FrameReader, FrameType, ROUTING_PROTOCOL_VERSION } from '../../../src/cluster/routing/frames.ts';
import type { TlsMaterial } from '../../../src/cluster/pki/tls-files.ts';
import { message, nodeTls, startNodes, stopNodes, until, type TestNode } from './link-fixture.ts';

let nodes: Map<string, TestNode> | undefined;
afterEach(async () => {
  if (nodes) await stopNodes(nodes);
  nodes = undefined;
});

/** Connects as a client with `identity`, says hello as `claims`, and tells what the server did. */
function probe(port: number, caPem: string, identity: Partial<TlsMaterial>, claims: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem, key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
    const reader = new FrameReader(1 << 16);
    let outcome = 'closed without a word';
    socket.on('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: claims })));
    socket.on('data', (chunk) => {
      for (const f of reader.push(chunk)) {
        const hello = decodeValue(f.payload) as { refused?: string };
        outcome = hello.refused ? `refused: ${hello.refused}` : 'accepted';
        if (!hello.refused) socket.destroy();
      }
    });
    socket.on('error', (e) => (outcome = `error: ${e.message}`));
    socket.on('close', () => resolve(outcome));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

describe('mTLS on the routing port', () => {
  it('refuses a client without a certificate at the handshake', async () => {
    ({ nodes } = await startNodes(['node-a']));
    const a = nodes.get('node-a') as TestNode;
    const outcome = await probe(a.port, a.tls.caPem, {}, 'node-x');
    expect(outcome).not.toBe('accepted');
    expect(outcome).not.toMatch(/^refused/); // never reached hello
    await until(() => a.links.stats.refused >= 1);
  });

  it('refuses a self-signed certificate (another CA) naming a member', async () => {
    ({ nodes } = await startNodes(['node-a']));
    const a = nodes.get('node-a') as TestNode;
    const rogue = await nodeTls(await createCa('rogue'), 'node-b');
    const outcome = await probe(a.port, a.tls.caPem, rogue, 'node-b');
    expect(outcome).not.toBe('accepted');
    expect(outcome).not.toMatch(/^refused/);
    await until(() => a.links.stats.refused >= 1);
  });

  it('refuses a CA-signed certificate naming another node id than the hello', async () => {
    const { ca, nodes: started } = await startNodes(['node-a']);
    nodes = started;
    const a = nodes.get('node-a') as TestNode;
    const mallory = await nodeTls(ca, 'node-c');
    expect(await probe(a.port, a.tls.caPem, mallory, 'node-b')).toBe("refused: hello names 'node-b' but the certificate names 'node-c'");
    // The control: the same certificate saying who it is gets in.
    expect(await probe(a.port, a.tls.caPem, mallory, 'node-c')).toBe('accepted');
  });

  it('refuses a CA-signed certificate of a node that is not a member', async () => {
    const { ca, nodes: started } = await startNodes(['node-a'], { isMember: (id) => id === 'node-b' });
    nodes = started;
    const a = nodes.get('node-a') as TestNode;
    const outsider = await nodeTls(ca, 'node-c');
    expect(await probe(a.port, a.tls.caPem, outsider, 'node-c')).toBe("refused: 'node-c' is not a member of this cluster");
  });

  it('a dialler refuses a server whose certificate names another node than the one dialled', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-c']));
    const a = nodes.get('node-a') as TestNode;
    const c = nodes.get('node-c') as TestNode;
    // node-a believes node-b listens where node-c does.
    const { RoutingLinks } = await import('../../../src/cluster/routing/routing-links.ts');
    const fooled = new RoutingLinks({ nodeId: 'node-a', tls: a.tls, addressOf: () => ({ host: '127.0.0.1', port: c.port }) });
    const undelivered: string[] = [];
    fooled.onUndelivered((_node, _messages, reason) => undelivered.push(reason));
    expect(fooled.sendMessage('node-b', message('alice', 'bob'), 'receiver')).toBe('queued');
    await until(() => undelivered.length === 1);
    expect(undelivered).toEqual(['PEER_UNREACHABLE']);
    expect(fooled.sendMessage('node-b', message('alice', 'bob'), 'receiver')).toBe('unreachable'); // backing off
    fooled.close();
  });
});

describe('bad input from an authenticated peer', () => {
  it('a malformed or oversized frame closes that link, is logged once per peer per minute, and the node carries on', async () => {
    const lines: string[] = [];
    const log = (_d: Record<string, unknown>, m: string) => void lines.push(m);
    const { ca, nodes: started } = await startNodes(['node-a', 'node-b'], { logger: { info: log, warn: log, debug() {} }, settings: { maxFrameBytes: 65536 } });
    nodes = started;
    const a = nodes.get('node-a') as TestNode;
    const peer = await nodeTls(ca, 'node-c');
    const attack = (garbage: Buffer): Promise<void> =>
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: a.port, ca: peer.caPem, key: peer.keyPem, cert: peer.certPem, checkServerIdentity: () => undefined });
        socket.on('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: 'node-c' })));
        socket.once('data', () => socket.write(garbage));
        socket.on('error', () => {});
        socket.on('close', () => resolve());
      });
    const oversized = Buffer.from([0xff, 0xff, 0xff, 0xff, FrameType.messages, 0]);
    const notMessages = encodeFrameOf(FrameType.messages, Buffer.from([0xc1, 0xc1]));
    await attack(oversized);
    await attack(notMessages);
    expect(lines.filter((l) => l.startsWith('routing: closed the link'))).toHaveLength(1);
    expect(a.links.stats.malformed).toBe(2);
    // The node still routes.
    let got = 0;
    a.links.onMessage(() => got++);
    nodes.get('node-b')!.links.sendMessage('node-a', message('x', 'y'), 'receiver');
    await until(() => got === 1);
  });
});

function encodeFrameOf(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32BE(payload.length, 0);
  head[4] = type;
  return Buffer.concat([head, payload]);
}

describe('protocol version', () => {
  async function helloAnswer(port: number, caPem: string, peer: { keyPem: string; certPem: string }, v: number): Promise<{ refused?: string; v?: number }> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca: caPem, key: peer.keyPem, cert: peer.certPem, checkServerIdentity: () => undefined });
      const reader = new FrameReader(1 << 16);
      socket.on('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v, node: 'node-c', cv: '9.9.9' })));
      socket.on('data', (chunk) => {
        for (const f of reader.push(chunk)) {
          resolve(decodeValue(f.payload) as { refused?: string; v?: number });
          socket.destroy();
        }
      });
      socket.on('error', () => {});
    });
  }

  it('a peer two routing protocol versions away is refused with a clear line naming both versions', async () => {
    const lines: string[] = [];
    const log = (_d: Record<string, unknown>, m: string) => void lines.push(m);
    const { ca, nodes: started } = await startNodes(['node-a'], { logger: { info: log, warn: log, debug() {} } });
    nodes = started;
    const a = nodes.get('node-a') as TestNode;
    const peer = await nodeTls(ca, 'node-c');
    const far = ROUTING_PROTOCOL_VERSION + 2;
    const answer = await helloAnswer(a.port, peer.caPem, peer, far);
    const why = `routing protocol v${far} is incompatible with this node's v${ROUTING_PROTOCOL_VERSION} (accepted: v${ROUTING_PROTOCOL_VERSION - 1} to v${ROUTING_PROTOCOL_VERSION + 1}); upgrade nodes one version at a time`;
    expect(answer.refused).toBe(why);
    expect(lines).toContain(`routing: refused incompatible peer 'node-c': ${why}`);
  });

  it('a peer of an adjacent routing protocol version is accepted (rolling upgrades)', async () => {
    const { ca, nodes: started } = await startNodes(['node-a']);
    nodes = started;
    const a = nodes.get('node-a') as TestNode;
    const peer = await nodeTls(ca, 'node-c');
    for (const v of [ROUTING_PROTOCOL_VERSION + 1, ROUTING_PROTOCOL_VERSION - 1]) {
      const answer = await helloAnswer(a.port, peer.caPem, peer, v);
      expect(answer.refused).toBeUndefined();
      expect(answer.v).toBe(ROUTING_PROTOCOL_VERSION);
    }
  });
});
