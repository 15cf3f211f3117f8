// A connection that never sends a request: Node bounds a request once it has begun (api.request_timeout_ms)
// and keep-alive idleness after one, but a socket that sends nothing stayed open for ever (75 s and counting on
// the last release), so one source without credentials could hold every api.max_connections slot. Now it is
// closed api.first_request_timeout_ms after it is accepted (over TLS: after its handshake, which has the same
// bound). Against the real node's API on loopback, plain and over TLS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { createTestCa } from '../helpers/test-certificates.ts';
import { closesWithin } from '../helpers/socket-close.ts';

const TIMEOUT_MS = 1_000;
/** How long a test waits for a close that should come after TIMEOUT_MS: generous, for a loaded machine. */
const CLOSE_WITHIN_MS = 15_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(settings: Record<string, unknown> = {}): Promise<{ node: CaxtonNode; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-silent-'));
  const config = loadConfig({ flags: { dataDir: join(dir, 'data'), logLevel: 'silent', apiAddr: '127.0.0.1:0', 'api.first_request_timeout_ms': TIMEOUT_MS, ...settings }, env: {} });
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  cleanups.push(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { node, port: (node.api!.server.address() as AddressInfo).port, dir };
}

function track<S extends Socket>(socket: S): S {
  socket.on('error', () => {});
  cleanups.push(() => void socket.destroy());
  return socket;
}

const timedOut = async (port: number): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^caxton_api_connections_timed_out_total (\d+)/m.exec(text)?.[1] ?? 0);
};

describe('connections that never send a request', () => {
  it('are closed api.first_request_timeout_ms after they are accepted, and counted', async () => {
    const { port } = await startNode();
    const sockets = Array.from({ length: 20 }, () => track(connect(port, '127.0.0.1')));
    const closed = await Promise.all(sockets.map((s) => closesWithin(s, CLOSE_WITHIN_MS)));
    expect(closed).toEqual(Array(20).fill(true));
    expect(await timedOut(port)).toBe(20);
  });

  it('leave alone a connection that sent its request: keep-alive outlives the bound', async () => {
    const { port } = await startNode();
    const socket = track(connect(port, '127.0.0.1'));
    let answers = '';
    socket.on('data', (chunk) => (answers += chunk.toString()));
    const get = 'GET /health HTTP/1.1\r\nHost: caxton\r\n\r\n';
    socket.write(get);
    await expect.poll(() => answers.match(/HTTP\/1\.1 200/g)?.length ?? 0, { timeout: CLOSE_WITHIN_MS }).toBe(1);
    // Longer than the bound: a timer left armed after the first request would have closed it by now.
    expect(await closesWithin(socket, TIMEOUT_MS * 2)).toBe(false);
    socket.write(get);
    await expect.poll(() => answers.match(/HTTP\/1\.1 200/g)?.length ?? 0, { timeout: CLOSE_WITHIN_MS }).toBe(2);
    expect(await timedOut(port)).toBe(0);
  });

  it('a request asking for an upgrade is answered as a request (the node serves no upgrades), not held', async () => {
    const { port } = await startNode();
    const socket = track(connect(port, '127.0.0.1'));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.write('GET /health HTTP/1.1\r\nHost: caxton\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await expect.poll(() => answer.startsWith('HTTP/1.1 200'), { timeout: CLOSE_WITHIN_MS }).toBe(true);
  });

  it('over TLS: a handshake never begun, and a handshake done but no request, are both closed', async () => {
    const ca = await createTestCa();
    const server = await ca.issue('localhost', { server: true });
    const dir = mkdtempSync(join(tmpdir(), 'caxton-silent-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'server.pem'), server.cert);
    writeFileSync(join(dir, 'server.key'), server.key);
    const { port } = await startNode({ 'api.tls_cert': join(dir, 'server.pem'), 'api.tls_key': join(dir, 'server.key') });

    const silent = track(connect(port, '127.0.0.1'));
    const handshaken = track(tlsConnect({ port, host: '127.0.0.1', ca: ca.cert, servername: 'localhost' }));
    await new Promise<void>((resolve, reject) => {
      handshaken.once('secureConnect', resolve);
      handshaken.once('error', reject);
    });
    expect(await closesWithin(silent, CLOSE_WITHIN_MS)).toBe(true);
    expect(await closesWithin(handshaken, CLOSE_WITHIN_MS)).toBe(true);
  });
});
