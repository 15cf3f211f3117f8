// A PeerLink driven by an in-memory socket as an authenticated peer that breaks the protocol would: it sends
// requests or messages and never reads, or answers with an error that is not text. Bounds are checked in
// bytes and counts, never by timing.
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { PeerLink, type PeerLinkHost } from '../../../src/cluster/routing/peer-link.ts';
import { decodeValue, encodeFrame, encodeValueFrame, FrameReader, FrameType } from '../../../src/cluster/routing/frames.ts';
import { encodeAclMessage } from '../../../src/cluster/routing/message-codec.ts';
import { ROUTING_LINK_DEFAULTS, type RoutingLinkSettings } from '../../../src/cluster/routing/routing-options.ts';
import { message } from './link-fixture.ts';

/** The link's side of a connection: `reading` false is a peer whose receive window is full (write() says so). */
class FakeSocket extends EventEmitter {
  destroyed = false;
  reading = true;
  private readonly reader = new FrameReader(1 << 26);
  readonly frames: Array<{ type: number; value: unknown }> = [];
  write(data: Buffer): boolean {
    for (const f of this.reader.push(data)) this.frames.push({ type: f.type, value: decodeValue(f.payload) });
    return this.reading;
  }
  destroy(): void {
    this.destroyed = true;
  }
  of(type: number): unknown[] {
    return this.frames.filter((f) => f.type === type).map((f) => f.value);
  }
}

function makeLink(settings: Partial<RoutingLinkSettings> = {}, outbound = false) {
  const badPeer: string[] = [];
  /** What the link held when it called the peer bad: the most it held before closing. */
  const heldAtBadPeer: number[] = [];
  const host: PeerLinkHost = {
    settings: { ...ROUTING_LINK_DEFAULTS, ...settings },
    random: () => 0.5,
    deliver() {},
    undelivered() {},
    dial() {},
    badPeer: (_peer, what) => {
      badPeer.push(what);
      heldAtBadPeer.push(link.queuedBytes);
    },
    serve: async (_from, method) => {
      if (method === 'echo') return 'x'.repeat(1000);
      throw new Error(`unknown method '${method}'`);
    },
  };
  const link = new PeerLink('peer', host);
  const socket = new FakeSocket();
  link.adopt(socket as unknown as TLSSocket, outbound, 'instance');
  return { link, socket, badPeer, heldAtBadPeer };
}

/** Lets answers from serve() and the flush of a turn run. */
async function turns(n = 2): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function settledState(p: Promise<unknown>): { state: string; error?: { code?: string; message: string } } {
  const s: { state: string; error?: { code?: string; message: string } } = { state: 'pending' };
  p.then(
    () => (s.state = 'resolved'),
    (e: { code?: string; message: string }) => {
      s.state = 'rejected';
      s.error = e;
    },
  );
  return s;
}

describe('answers to a peer that sends requests and never reads', () => {
  const queueMaxBytes = 64 * 1024;
  const maxRequestsInFlight = 16;
  // What may wait: answers that fit queueMaxBytes, then at most maxRequestsInFlight short BUSY refusals.
  const bound = queueMaxBytes + maxRequestsInFlight * 100;

  it('stay within queueMaxBytes plus maxRequestsInFlight refusals; past that the link is closed', async () => {
    const { link, socket, badPeer, heldAtBadPeer } = makeLink({ queueMaxBytes, maxRequestsInFlight });
    socket.reading = false;
    // Requests for a method served and for one that is not (answered with an error): both are answers.
    const batch = Buffer.concat(Array.from({ length: 100 }, (_, i) => encodeValueFrame(FrameType.request, [i, i % 2 === 0 ? 'echo' : 'nope', null])));
    let maxHeld = 0;
    let rounds = 0;
    for (; rounds < 200 && !socket.destroyed; rounds++) {
      socket.emit('data', batch);
      maxHeld = Math.max(maxHeld, link.queuedBytes);
      await turns();
      maxHeld = Math.max(maxHeld, link.queuedBytes);
    }
    expect(Math.max(maxHeld, ...heldAtBadPeer)).toBeLessThanOrEqual(bound);
    expect(rounds).toBeGreaterThan(1); // it was answered until the bound, not closed at once
    expect(socket.destroyed).toBe(true);
    expect(badPeer).toEqual([expect.stringMatching(/^closed the link: 16 refusals wait for it to read them/)]);
    expect(link.queuedBytes).toBe(0); // the answers of a lost connection are dropped with it
  });

  it('a peer within its in-flight bound is answered every request, BUSY past the byte bound, and kept', async () => {
    const { link, socket, badPeer } = makeLink({ queueMaxBytes: 4096, maxRequestsInFlight });
    socket.reading = false;
    let id = 0;
    socket.emit('data', encodeValueFrame(FrameType.request, [id++, 'echo', null]));
    await turns(); // written: from now on the socket waits for drain and answers stay queued
    for (let round = 0; round < 5; round++) {
      const ids = Array.from({ length: maxRequestsInFlight }, () => id++);
      socket.emit('data', Buffer.concat(ids.map((i) => encodeValueFrame(FrameType.request, [i, 'echo', null]))));
      await turns();
      expect(link.queuedBytes).toBeGreaterThan(4096); // the refusals past the byte bound are held
      expect(link.queuedBytes).toBeLessThanOrEqual(4096 + maxRequestsInFlight * 100);
      socket.emit('drain'); // the peer read what was written
      await turns();
    }
    expect(badPeer).toEqual([]);
    expect(socket.destroyed).toBe(false);
    const answers = socket.of(FrameType.response) as Array<[number, boolean, string]>;
    expect(answers.map((a) => a[0])).toEqual(Array.from({ length: id }, (_, i) => i));
    expect(answers.some(([, ok]) => ok)).toBe(true);
    expect(answers.filter(([, ok]) => !ok).every(([, , text]) => text.startsWith('BUSY'))).toBe(true);
  });
});

describe('acks to a peer that sends messages and never reads', () => {
  it('are held back while the socket waits for drain, then one cumulative ack is written', async () => {
    const { socket } = makeLink();
    socket.reading = false;
    // Something written first, so the link waits for drain.
    socket.emit('data', encodeValueFrame(FrameType.request, [0, 'echo', null]));
    await turns(3);
    for (let round = 0; round < 10; round++) {
      const bytes = encodeAclMessage(message('alice', 'bob'), 'receiver');
      socket.emit('data', encodeFrame(FrameType.messages, [bytes], bytes.length));
      await turns();
    }
    expect(socket.of(FrameType.ack)).toEqual([]);
    socket.reading = true;
    socket.emit('drain');
    await turns(3);
    expect(socket.of(FrameType.ack)).toEqual([10]);
  });
});

describe('answers from the peer to our requests', () => {
  it('an error that is not text settles the request (REMOTE_ERROR) instead of leaving it pending', async () => {
    const { link, socket, badPeer } = makeLink({}, true);
    const shapes: unknown[] = [{ toString: 1 }, { toString: { valueOf: 2 } }, null, 42, ['a', { b: 1 }], 'plain text'];
    // Timeouts far beyond the test: only the answer can settle these.
    const requests = shapes.map(() => settledState(link.request('module', { sha: 'x' }, 3_600_000)));
    await turns();
    expect(socket.of(FrameType.request)).toHaveLength(shapes.length);
    socket.emit('data', Buffer.concat(shapes.map((shape, i) => encodeValueFrame(FrameType.response, [i + 1, false, shape]))));
    await turns();
    expect(requests.map((r) => r.state)).toEqual(shapes.map(() => 'rejected'));
    expect(requests.map((r) => r.error?.code)).toEqual(shapes.map(() => 'REMOTE_ERROR'));
    expect(requests.every((r) => typeof r.error?.message === 'string')).toBe(true);
    expect(requests[5].error?.message).toBe('plain text');
    // None of these is a protocol error: the link stays.
    expect(badPeer).toEqual([]);
    expect(socket.destroyed).toBe(false);
  });

  it('every request outstanding on a link is rejected when the link drops, written or still queued', async () => {
    const { link, socket } = makeLink({}, true);
    socket.reading = false;
    const first = settledState(link.request('module', { sha: 'a' }, 3_600_000));
    await turns(); // written; the socket now waits for drain
    const second = settledState(link.request('module', { sha: 'b' }, 3_600_000)); // still queued
    await turns();
    socket.emit('data', encodeValueFrame(9, null)); // a frame type that does not exist: the link is closed
    await turns();
    expect([first.state, second.state]).toEqual(['rejected', 'rejected']);
    expect([first.error?.code, second.error?.code]).toEqual(['LINK_LOST', 'LINK_LOST']);
    expect(socket.destroyed).toBe(true);
  });
});
