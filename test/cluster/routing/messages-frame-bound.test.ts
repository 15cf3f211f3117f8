// A MESSAGES frame above batchBytes holds one message: a sender closes its batch there, so only a message
// larger than a batch travels alone in a larger frame. Before, a peer's frame of up to max_frame_bytes (20 MiB)
// of tiny messages was decoded and handed over in one go: 174,000 messages held a real node's event loop for
// 2.2 s per frame (/health waited as long), frame after frame.
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { PeerLink, type PeerLinkHost } from '../../../src/cluster/routing/peer-link.ts';
import { encodeFrame, FrameType } from '../../../src/cluster/routing/frames.ts';
import { encodeAclMessage } from '../../../src/cluster/routing/message-codec.ts';
import { ROUTING_LINK_DEFAULTS } from '../../../src/cluster/routing/routing-options.ts';
import { message } from './link-fixture.ts';

class FakeSocket extends EventEmitter {
  destroyed = false;
  write(): boolean {
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function linkWithPeer() {
  const delivered: string[] = [];
  const badPeer: string[] = [];
  const host: PeerLinkHost = {
    settings: { ...ROUTING_LINK_DEFAULTS },
    random: () => 0.5,
    deliver: (_from, m) => delivered.push(m.message_id),
    undelivered() {},
    dial() {},
    badPeer: (_peer, what) => badPeer.push(what),
    serve: async () => undefined,
  };
  const link = new PeerLink('peer', host);
  const socket = new FakeSocket();
  link.adopt(socket as unknown as TLSSocket, false, 'instance');
  return { socket, delivered, badPeer };
}

function messagesFrame(contents: unknown[]): Buffer {
  const parts = contents.map((content) => encodeAclMessage(message('client:x', 'agent-y', content), 'agent-y'));
  return encodeFrame(FrameType.messages, parts, parts.reduce((n, p) => n + p.length, 0));
}

describe('MESSAGES frames above batchBytes', () => {
  const { batchBytes } = ROUTING_LINK_DEFAULTS;

  it('many small messages past batchBytes close the link; none is handed over', () => {
    const { socket, delivered, badPeer } = linkWithPeer();
    const count = Math.ceil((batchBytes * 4) / 100);
    const frame = messagesFrame(Array.from({ length: count }, (_, i) => ({ i })));
    expect(frame.length).toBeGreaterThan(batchBytes * 2);
    socket.emit('data', frame);
    expect(delivered).toHaveLength(0);
    expect(socket.destroyed).toBe(true);
    expect(badPeer.join('\n')).toMatch(/more than 3 values/);
  });

  it('one message larger than batchBytes alone in its frame is handed over, as a batch within batchBytes is', () => {
    const { socket, delivered, badPeer } = linkWithPeer();
    socket.emit('data', messagesFrame([{ pad: 'x'.repeat(batchBytes + 1000) }]));
    socket.emit('data', messagesFrame(Array.from({ length: 100 }, (_, i) => ({ i }))));
    expect(delivered).toHaveLength(101);
    expect(badPeer).toEqual([]);
    expect(socket.destroyed).toBe(false);
  });
});
