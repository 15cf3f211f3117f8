// Review findings: request bodies had no time bound and their sum no size bound. (1) A request without
// credentials announcing a body and sending it a byte every 2 s got its 401 at once, but its connection stayed
// open while Node read and dropped the body (still open after 95 s): max_connections of them shut honest
// clients out for free. (2) With credentials the same body held its connection and the text read so far
// forever (Fastify sets no request timeout). (3) Any principal with a route that takes a body (a viewer has
// POST /mcp) could stall a hundred bodies one byte short of 8 MiB: +818 MiB retained (after GC), where
// api.body_limit_bytes (22 MiB) bounds one body only. Against the real node's API on loopback.
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(settings: Record<string, unknown> = {}): Promise<{ node: CaxtonNode; port: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-slow-body-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', ...settings }, env: {} });
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  cleanups.push(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { node, port: (node.api!.server.address() as AddressInfo).port };
}

interface SlowBody {
  socket: Socket;
  /** What came back so far. */
  answer(): string;
  /** Resolves with the milliseconds from the start when the node closes the connection. */
  closed: Promise<number>;
}

/** Sends a request's headers and `first` bytes of its body, then one more byte every 200 ms and never the rest. */
function slowBody(port: number, path: string, headers: string, declared: number, first = 0): SlowBody {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  socket.on('error', () => {});
  const trickle = setInterval(() => {
    if (!socket.destroyed) socket.write('a');
  }, 200);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  void closed.then(() => clearInterval(trickle));
  cleanups.push(() => {
    clearInterval(trickle);
    socket.destroy();
  });
  socket.on('connect', () => {
    socket.write(`POST ${path} HTTP/1.1\r\nHost: caxton\r\n${headers}Content-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
    // A JSON string that never ends: whatever arrives is held until the body is complete.
    if (first > 0) socket.write(`"${'a'.repeat(first - 1)}`);
  });
  return { socket, answer: () => answer, closed };
}

const statusOf = (answer: string): number => Number(answer.slice(9, 12));

describe('slow request bodies', () => {
  it('a request refused before its body is read has its connection closed with the refusal', async () => {
    const { port } = await startNode();
    const body = slowBody(port, '/api/v1/messages', '', 1_000_000);
    const closedAfterMs = await Promise.race([body.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 5_000))]);
    expect(statusOf(body.answer())).toBe(401);
    expect(body.answer()).toMatch(/connection: close/i);
    expect(closedAfterMs).toBeLessThan(5_000);
  });

  it('an authenticated body that does not arrive within api.request_timeout_ms gets 408 and its connection closed', async () => {
    const { node, port } = await startNode({ 'api.request_timeout_ms': 1_000 });
    const body = slowBody(port, '/api/v1/messages', `Authorization: Bearer ${node.state.adminKey.key}\r\n`, 1_000_000);
    const closedAfterMs = await Promise.race([body.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 10_000))]);
    expect(statusOf(body.answer())).toBe(408);
    expect(closedAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(closedAfterMs).toBeLessThan(10_000);
  });

  it('bodies being read at once are bounded by api.max_body_bytes_in_flight, and what a body took comes back', async () => {
    const { node, port } = await startNode({ 'api.max_body_bytes_in_flight': 1024 * 1024 });
    const viewer = `Authorization: Bearer ${node.createApiKey('viewer', 'staller').key}\r\nAccept: application/json, text/event-stream\r\n`;
    const declared = 2 * 1024 * 1024;
    const holding = slowBody(port, '/mcp', viewer, declared, 700 * 1024);
    // Until the node has read the first one's 700 KiB, the second could be the one that holds.
    await new Promise((r) => setTimeout(r, 500));
    const refused = slowBody(port, '/mcp', viewer, declared, 700 * 1024);
    const refusedClosedAfterMs = await Promise.race([refused.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 5_000))]);
    expect(refusedClosedAfterMs).toBeLessThan(5_000);
    expect(statusOf(refused.answer())).toBe(503);
    expect(refused.answer()).toMatch(/retry-after: 1/i);
    expect(refused.answer()).toContain('api.max_body_bytes_in_flight');
    expect(holding.socket.destroyed).toBe(false);
    // Ordinary requests with small bodies still fit beside it.
    const send = await fetch(`http://127.0.0.1:${port}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.state.adminKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ performative: 'inform', receiver: 'nobody', content: 'x' }),
    });
    expect(send.status).toBe(202);
    // The client holding the budget leaves: what its body took comes back, and a body as large is read again.
    holding.socket.destroy();
    await holding.closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = slowBody(port, '/mcp', viewer, declared, 700 * 1024);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(again.answer()).toBe('');
    expect(again.socket.destroyed).toBe(false);
  });
});
