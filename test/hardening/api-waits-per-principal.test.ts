// Review finding: api.max_waits (10,000) bounded the sends waiting for replies on the whole node, not of one
// caller: one sender key (625 connections pipelining 16 each, or just 10,000 connections) held every wait, and
// every other caller's wait_ms was refused with 503 for as long as they waited. The same for /mcp: one key's
// send_message calls held all api.mcp_max_in_flight (256). Now one principal holds at most
// api.max_waits_per_principal, and api.mcp_max_in_flight_per_principal. Against the real node's API on
// loopback, with an agent that never answers.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { agentModule } from '../agents/fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(settings: Record<string, unknown>): Promise<{ node: CaxtonNode; base: string; stop: AbortController }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-waits-share-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', ...settings }, env: {} });
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  const stop = new AbortController();
  cleanups.push(async () => {
    stop.abort();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await node.deployAgent({ name: 'silent' }, await agentModule(() => ({ handle: '(i32.const 0)' })));
  return { node, base: `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`, stop };
}

describe('sends waiting for replies, per principal', () => {
  it('one key cannot hold every wait of the node', async () => {
    const { node, base, stop } = await startNode({ 'api.max_waits': 10, 'api.max_waits_per_principal': 3 });
    const url = `${base}/api/v1/messages?wait_ms=30000`;
    const send = (key: string, signal: AbortSignal = stop.signal): Promise<Response> =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ performative: 'request', receiver: 'silent', content: 'ping' }),
        signal,
      });
    const hoarder = node.createApiKey('sender', 'hoarder').key;
    const waiting = [send(hoarder), send(hoarder), send(hoarder)].map((p) => p.catch(() => undefined));
    await new Promise((r) => setTimeout(r, 300));
    const refused = await send(hoarder);
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.message).toContain('api.max_waits_per_principal');
    // Another sender's wait is taken: it waits (it is not answered at once with 503).
    const other = node.createApiKey('sender', 'other').key;
    const otherStop = new AbortController();
    const otherSend = send(other, otherStop.signal).then(
      (res) => res.status,
      () => 'waiting',
    );
    await new Promise((r) => setTimeout(r, 300));
    otherStop.abort();
    expect(await otherSend).toBe('waiting');
    stop.abort();
    await Promise.all(waiting);
  });

  it('one key cannot hold every /mcp request in flight', async () => {
    const { node, base, stop } = await startNode({ 'api.mcp_max_in_flight': 10, 'api.mcp_max_in_flight_per_principal': 2 });
    const call = (key: string, id: number, signal: AbortSignal = stop.signal): Promise<Response> =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'send_message', arguments: { receiver: 'silent', performative: 'request', content: 1, wait_ms: 30_000 } },
        }),
        signal,
      });
    const hoarder = node.createApiKey('sender', 'mcp-hoarder').key;
    const waiting = [call(hoarder, 1), call(hoarder, 2)].map((p) => p.catch(() => undefined));
    await new Promise((r) => setTimeout(r, 300));
    const refused = await call(hoarder, 3);
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.message).toContain('api.mcp_max_in_flight_per_principal');
    const otherStop = new AbortController();
    const other = call(node.createApiKey('sender', 'mcp-other').key, 4, otherStop.signal).then(
      (res) => res.status,
      () => 'waiting',
    );
    await new Promise((r) => setTimeout(r, 300));
    otherStop.abort();
    expect(await other).toBe('waiting');
    stop.abort();
    await Promise.all(waiting);
  });
});
