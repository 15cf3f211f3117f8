import { afterEach, describe, expect, it } from 'vitest';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { message, startNodes, stopNodes, until, type TestNode } from './link-fixture.ts';

let nodes: Map<string, TestNode> | undefined;
afterEach(async () => {
  if (nodes) await stopNodes(nodes);
  nodes = undefined;
});

describe('RoutingLinks over real TLS on loopback', () => {
  it('delivers 20,000 messages in order with the authenticated sender node', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b']));
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    const got: Array<[string, AclMessage]> = [];
    b.links.onMessage((from, m) => got.push([from, m]));
    const sent: AclMessage[] = [];
    let i = 0;
    // Sent in bursts below the queue bound, as a router under load would.
    while (i < 20_000) {
      for (let k = 0; k < 2000; k++, i++) {
        const m = message('alice', 'bob', { i, text: 'x'.repeat(i % 50) });
        if (i === 7) m.trace_context = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
        sent.push(m);
        expect(a.links.sendMessage('node-b', m, 'receiver')).toBe('queued');
      }
      await until(() => got.length === i);
    }
    expect(got.every(([from]) => from === 'node-a')).toBe(true);
    expect(got.map(([, m]) => m)).toEqual(sent);
    await until(() => a.links.linkStates()[0].queuedMessages === 0);
  });

  it('answers full past the per-peer bound, and unreachable for an unknown node', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b'], { settings: { queueMaxMessages: 100 } }));
    const a = nodes.get('node-a') as TestNode;
    const results = Array.from({ length: 150 }, () => a.links.sendMessage('node-b', message('alice', 'bob'), 'receiver'));
    expect(results.filter((r) => r === 'queued')).toHaveLength(100);
    expect(results.slice(100).every((r) => r === 'full')).toBe(true);
    expect(a.links.sendMessage('node-z', message('alice', 'bob'), 'receiver')).toBe('unreachable');
    // What cannot be encoded is refused, never thrown at the router.
    expect(() => a.links.sendMessage('node-b', message('alice', 'bob', { n: 10n }), 'receiver')).not.toThrow();
  });

  it('requests count against the byte bound until written; one always fits when nothing is held', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b'], { settings: { queueMaxBytes: 1000 } }));
    const a = nodes.get('node-a') as TestNode;
    nodes.get('node-b')!.links.onRequest('echo', (_f, body) => body);
    const big = 'x'.repeat(5000); // larger than the whole bound: still goes, alone
    const first = a.links.request('node-b', 'echo', big, 5000);
    await expect(a.links.request('node-b', 'echo', 'y'.repeat(800), 5000)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(await first).toBe(big);
    expect(await a.links.request('node-b', 'echo', 'y'.repeat(800), 5000)).toHaveLength(800);
  });

  it('request/reply, remote errors and timeouts', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b']));
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    b.links.onRequest('echo', (from, body) => ({ from, body }));
    b.links.onRequest('boom', () => {
      throw new Error('no such module');
    });
    b.links.onRequest('slow', () => new Promise(() => {}));
    expect(await a.links.request('node-b', 'echo', { x: [1, 'two'] }, 5000)).toEqual({ from: 'node-a', body: { x: [1, 'two'] } });
    // Bytes (a module fetched by sha256) travel as bytes.
    const bytes = (await a.links.request('node-b', 'echo', new Uint8Array([1, 2, 3]), 5000)) as { body: Uint8Array };
    expect(bytes.body).toBeInstanceOf(Uint8Array);
    expect([...bytes.body]).toEqual([1, 2, 3]);
    await expect(a.links.request('node-b', 'boom', null, 5000)).rejects.toThrow('no such module');
    await expect(a.links.request('node-b', 'nope', null, 5000)).rejects.toThrow("unknown method 'nope'");
    await expect(a.links.request('node-b', 'slow', null, 100)).rejects.toMatchObject({ code: 'TIMEOUT' });
    // The link is bidirectional: b answers a's requests and sends over the same connection.
    a.links.onRequest('echo', (_from, body) => body);
    expect(await b.links.request('node-a', 'echo', 42, 5000)).toBe(42);
  });

  it('reports unacknowledged messages undelivered when the peer dies, then reconnects once it is back', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b']));
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    let delivered = 0;
    b.links.onMessage(() => delivered++);
    expect(a.links.sendMessage('node-b', message('alice', 'bob'), 'receiver')).toBe('queued');
    await until(() => delivered === 1 && a.links.linkStates()[0].queuedMessages === 0);
    // b stops handling (its process freezes: no acks), then dies.
    const undelivered: AclMessage[] = [];
    a.links.onUndelivered((node, messages, reason) => {
      expect(node).toBe('node-b');
      expect(['LINK_LOST', 'PEER_UNREACHABLE']).toContain(reason);
      undelivered.push(...messages.map((r) => r.message));
    });
    const stuck = [message('alice', 'bob'), message('alice', 'bob'), message('alice', 'bob')];
    b.links.close();
    for (const m of stuck) a.links.sendMessage('node-b', m, 'receiver');
    await until(() => undelivered.length === 3);
    expect(undelivered).toEqual(stuck);
    // b comes back on the same port with fresh links.
    const { RoutingLinks } = await import('../../../src/cluster/routing/routing-links.ts');
    const b2 = new RoutingLinks({ nodeId: 'node-b', tls: b.tls, addressOf: () => ({ host: '127.0.0.1', port: a.port }) });
    b.server.removeAllListeners('connection');
    b.server.on('connection', (socket) => {
      socket.on('error', () => {});
      socket.once('data', (head) => b2.acceptSocket(socket, head));
    });
    let got2 = 0;
    b2.onMessage(() => got2++);
    await until(() => {
      if (got2 > 0) return true;
      a.links.sendMessage('node-b', message('alice', 'bob'), 'receiver');
      return false;
    }, 20_000);
    b2.close();
  });

  it('a crossing dial keeps one connection per pair, and both directions work', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b']));
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    let atA = 0;
    let atB = 0;
    a.links.onMessage(() => atA++);
    b.links.onMessage(() => atB++);
    let failed = 0;
    a.links.onUndelivered((_n, ms) => (failed += ms.length));
    b.links.onUndelivered((_n, ms) => (failed += ms.length));
    a.links.sendMessage('node-b', message('x', 'y'), 'receiver');
    b.links.sendMessage('node-a', message('y', 'x'), 'receiver');
    await until(() => atA + atB + failed === 2);
    await until(() => a.links.linkStates()[0]?.up === true || b.links.linkStates()[0]?.up === true);
    for (let i = 0; i < 10; i++) {
      if (a.links.sendMessage('node-b', message('x', 'y'), 'receiver') === 'unreachable') await new Promise((r) => setTimeout(r, 500));
    }
    await until(() => atB + failed >= 10);
  });
});

// Issue 12: a new owner's first direct replies to a client's node crossed that node's dial; when the refusal
// reached the higher id before the lower id's connection did, its queue was failed and it backed off. On
// loopback the connection usually arrives first, so this checks the outcome, not that order (it passes on the
// code before the fix too); test/e2e/drain-forward-reply.test.ts met the order 2 times in 6 before the fix.
describe('two nodes dialling each other at once', () => {
  it('what either side queued meanwhile is delivered, none failed, and neither side backs off', async () => {
    for (let round = 0; round < 5; round++) {
      ({ nodes } = await startNodes(['node-a', 'node-b']));
      const a = nodes.get('node-a') as TestNode;
      const b = nodes.get('node-b') as TestNode;
      let atA = 0;
      let atB = 0;
      let failed = 0;
      a.links.onMessage(() => atA++);
      b.links.onMessage(() => atB++);
      a.links.onUndelivered((_n, ms) => (failed += ms.length));
      b.links.onUndelivered((_n, ms) => (failed += ms.length));
      const sent: string[] = [];
      for (let i = 0; i < 50; i++) {
        sent.push(a.links.sendMessage('node-b', message('x', 'y'), 'receiver'));
        sent.push(b.links.sendMessage('node-a', message('y', 'x'), 'receiver'));
      }
      await until(() => atA + atB + failed === 100);
      expect({ failed, atA, atB }).toEqual({ failed: 0, atA: 50, atB: 50 });
      expect(b.links.sendMessage('node-a', message('y', 'x'), 'receiver')).toBe('queued');
      await until(() => atA === 51);
      expect(sent.every((r) => r === 'queued')).toBe(true);
      await stopNodes(nodes);
      nodes = undefined;
    }
  });
});

describe('a peer that restarts while the other side still holds its old connection', () => {
  it('the restarted (higher id) node is let in, not shut out by the half-open link', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b']));
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    let atB = 0;
    b.links.onMessage(() => atB++);
    a.links.sendMessage('node-b', message('x', 'y'), 'receiver'); // a's outbound link is up
    await until(() => atB === 1);
    // b "restarts": a new RoutingLinks for node-b behind the same port, a not told (no FIN reaches it yet).
    const { RoutingLinks } = await import('../../../src/cluster/routing/routing-links.ts');
    const b2 = new RoutingLinks({ nodeId: 'node-b', tls: b.tls, addressOf: () => ({ host: '127.0.0.1', port: a.port }) });
    let atA = 0;
    a.links.onMessage(() => atA++);
    expect(b2.sendMessage('node-a', message('y', 'x'), 'receiver')).toBe('queued');
    await until(() => atA === 1);
    b2.close();
  });
});

describe('a peer that stops reading', () => {
  it('never grows the sender past its bound: sends turn full, and nothing is lost silently when it dies', async () => {
    const { createServer } = await import('node:tls');
    const { decodeValue, encodeValueFrame, FrameReader, FrameType, ROUTING_PROTOCOL_VERSION } = await import('../../../src/cluster/routing/frames.ts');
    const { createCa } = await import('../../../src/cluster/pki/certificates.ts');
    const { nodeTls } = await import('./link-fixture.ts');
    const { RoutingLinks } = await import('../../../src/cluster/routing/routing-links.ts');
    const ca = await createCa();
    const b = await nodeTls(ca, 'node-b');
    const a = await nodeTls(ca, 'node-a');
    const sockets: import('node:tls').TLSSocket[] = [];
    // node-b says hello, then never reads again (a stalled process, a full disk, a GC storm).
    const server = createServer({ key: b.keyPem, cert: b.certPem, ca: b.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket) => {
      sockets.push(socket);
      const reader = new FrameReader(1 << 16);
      socket.once('data', (chunk) => {
        const hello = decodeValue(reader.push(chunk)[0].payload) as { node: string };
        expect(hello.node).toBe('node-a');
        socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: 'node-b', i: 'stalled' }));
        socket.pause();
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const links = new RoutingLinks({ nodeId: 'node-a', tls: a, addressOf: () => ({ host: '127.0.0.1', port }), settings: { queueMaxMessages: 5000, queueMaxBytes: 1 << 20 } });
    const undelivered: number[] = [];
    links.onUndelivered((_n, ms) => undelivered.push(ms.length));
    let queued = 0;
    let full = 0;
    const payload = 'p'.repeat(400);
    while (full === 0) {
      for (let i = 0; i < 500; i++) {
        const r = links.sendMessage('node-b', message('alice', 'bob', { payload }), 'receiver');
        if (r === 'queued') queued++;
        else if (r === 'full') full++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const [state] = links.linkStates();
    expect(state.queuedMessages).toBeLessThanOrEqual(5000);
    expect(state.queuedBytes).toBeLessThanOrEqual(1 << 20);
    expect(queued).toBeGreaterThan(0);
    // node-b dies: every message accepted and not acknowledged is reported, none silently dropped.
    for (const s of sockets) s.destroy();
    await until(() => undelivered.reduce((n, k) => n + k, 0) === queued);
    links.close();
    await new Promise((r) => server.close(r));
  });
});
