// A ClientHello and then silence: the routing server's TLS handshake times out (routing.connect_timeout_ms),
// but Node leaves the socket open when the server has a 'tlsClientError' listener, as the links do (to count
// and log refusals). Each such connection held one of routing's maxHandshakes slots for ever, and once they
// were all held every peer's dial was refused: a few datagrams' worth of bytes from anyone who could reach
// the port cut the node off its cluster. Over real routing links on loopback.
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodes, stopNodes, type TestNode } from './link-fixture.ts';
import { closesWithin } from '../../helpers/socket-close.ts';

let nodes: Map<string, TestNode> | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (nodes) await stopNodes(nodes);
  nodes = undefined;
});

/** The first flight a TLS client sends (its ClientHello), caught by a server that answers nothing. */
async function clientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const catcher = createServer((socket) => {
      socket.once('data', (chunk) => {
        resolve(chunk);
        socket.destroy();
        catcher.close();
      });
    });
    catcher.listen(0, '127.0.0.1', () => {
      const address = catcher.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      tlsConnect({ port: address.port, host: '127.0.0.1', rejectUnauthorized: false }).on('error', () => {});
    });
  });
}

describe('a routing peer that sends a ClientHello and then nothing', () => {
  it('is closed when its handshake times out, and peers can still link up', async () => {
    const HANDSHAKES = 4;
    const started = await startNodes(['node-a', 'node-b'], { settings: { connectTimeoutMs: 500, maxHandshakes: HANDSHAKES } });
    nodes = started.nodes;
    const a = nodes.get('node-a') as TestNode;
    const b = nodes.get('node-b') as TestNode;
    b.links.onRequest('ping', () => 'pong');

    const hello = await clientHello();
    for (let i = 0; i < HANDSHAKES; i++) {
      const socket = connect(b.port, '127.0.0.1');
      socket.on('error', () => {});
      // Flowing: the server's answer is read and dropped, so its close is seen (a paused socket never sees EOF).
      socket.resume();
      socket.once('connect', () => socket.write(hello));
      sockets.push(socket);
    }
    // Before: every one still open 15 s on (held until the attacker let go), and node-a's dial refused for load.
    const closed = await Promise.all(sockets.map((s) => closesWithin(s, 15_000)));
    expect(closed).toEqual(Array(HANDSHAKES).fill(true));
    expect(await a.links.request('node-b', 'ping', {}, 5_000)).toBe('pong');
  });
});
