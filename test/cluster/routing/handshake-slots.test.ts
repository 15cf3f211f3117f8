// maxHandshakes caps connections accepted and not yet through TLS + hello. An established inbound link must
// give its slot back, or a node would shut out new peers after maxHandshakes links (a cluster of more nodes,
// or as many reconnects).
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa } from '../../../src/cluster/pki/certificates.ts';
import { RoutingLinks } from '../../../src/cluster/routing/routing-links.ts';
import { listenTls, message, nodeTls, until } from './link-fixture.ts';

const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('handshake slots on the routing port', () => {
  it('established links do not count; connections stalled before TLS does do, up to the bound', async () => {
    const ca = await createCa();
    // Handshakes that stall are ended by the test, never by connectTimeoutMs.
    const hub = new RoutingLinks({ nodeId: 'node-a', tls: await nodeTls(ca, 'node-a'), addressOf: () => undefined, settings: { maxHandshakes: 2, connectTimeoutMs: 600_000 } });
    let accepted = 0;
    const { server, port } = await listenTls((socket, head) => {
      accepted++;
      hub.acceptSocket(socket, head);
    });
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())), () => hub.close());
    const from = new Set<string>();
    hub.onMessage((node) => from.add(node));
    const peer = async (id: string) => {
      const links = new RoutingLinks({ nodeId: id, tls: await nodeTls(ca, id), addressOf: () => ({ host: '127.0.0.1', port }) });
      cleanup.push(() => links.close());
      const failed: string[] = [];
      links.onUndelivered((_node, _messages, reason) => failed.push(reason));
      return { links, failed };
    };

    // Twice as many inbound links as slots, one after the other: each is up and stays up.
    for (const id of ['node-b', 'node-c', 'node-d', 'node-e']) {
      const p = await peer(id);
      expect(p.links.sendMessage('node-a', message(id, 'x'), 'receiver')).toBe('queued');
      await until(() => from.has(id) || p.failed.length > 0);
      expect({ id, failed: p.failed }).toEqual({ id, failed: [] });
    }
    expect(hub.stats.handshakesRefusedForLoad).toBe(0);
    expect(hub.linkStates().filter((s) => s.up)).toHaveLength(4);

    // Two connections that start TLS and go quiet take both slots: the next peer is refused for load.
    const stalled: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connect({ host: '127.0.0.1', port }, () => s.write(Buffer.from([0x16])));
      s.on('error', () => {});
      stalled.push(s);
    }
    await until(() => accepted === 6);
    const late = await peer('node-f');
    expect(late.links.sendMessage('node-a', message('node-f', 'x'), 'receiver')).toBe('queued');
    await until(() => late.failed.length > 0);
    expect(late.failed).toEqual(['PEER_UNREACHABLE']);
    expect(hub.stats.handshakesRefusedForLoad).toBe(1);

    // Once they are gone the slots are free again.
    for (const s of stalled) s.destroy();
    const next = await peer('node-g');
    await until(() => {
      if (from.has('node-g')) return true;
      next.links.sendMessage('node-a', message('node-g', 'x'), 'receiver');
      return false;
    });
  });
});
