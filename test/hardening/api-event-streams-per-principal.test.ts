// Review finding: api.max_event_streams (256) bounded the event streams of the whole node, not of one caller:
// one viewer key opening 256 streams to /api/v1/events had every other caller's events, log follows and
// streamed sends (stream=true) refused with 503 for as long as it kept them open. Now one principal holds at
// most api.max_event_streams_per_principal (32). Against the real node's API on loopback.
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

/** Opens GET /api/v1/events and resolves with its status once the headers arrived; the socket stays open. */
function openEvents(port: number, key: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    cleanups.push(() => {
      socket.destroy();
    });
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString();
      if (head.includes('\r\n\r\n')) resolve({ status: Number(head.slice(9, 12)), socket });
    });
    socket.on('connect', () => socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: caxton\r\nAuthorization: Bearer ${key}\r\n\r\n`));
  });
}

describe('event streams per principal', () => {
  it('one key cannot hold every event stream of the node', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-sse-share-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'api.max_event_streams': 40 }, env: {} });
    const node = await CaxtonNode.start({ config, listen: true, gossip: false });
    cleanups.push(async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const port = (node.api!.server.address() as AddressInfo).port;
    const viewer = node.createApiKey('viewer', 'hoarder').key;
    const held: Socket[] = [];
    let refusedAt = -1;
    for (let i = 0; i < 40; i++) {
      const { status, socket } = await openEvents(port, viewer);
      if (status !== 200) {
        refusedAt = i;
        expect(status).toBe(503);
        break;
      }
      held.push(socket);
    }
    expect(refusedAt).toBe(32);
    // Another caller still gets its stream.
    expect((await openEvents(port, node.state.adminKey.key)).status).toBe(200);
    // The share comes back when one of the viewer's streams closes.
    held[0].destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await openEvents(port, viewer)).status).toBe(200);
  });
});
