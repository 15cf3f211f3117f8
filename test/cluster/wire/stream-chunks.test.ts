// A stream costs time linear in its size however the peer chunks it (security review, finding 2): a
// push-pull's node list gives no length to wait for, and it was parsed again from the start on every TCP
// chunk, so 1 MiB in 1 KiB chunks took seconds of event loop. Measured by counting work, not by timing.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushNodeState, PushPull } from '../../../src/cluster/membership/messages.ts';
import { readStreamMessage } from '../../../src/cluster/transport/stream-reader.ts';
import { encodeMessage } from '../../../src/cluster/wire/codec.ts';
import { MsgpackReader } from '../../../src/cluster/wire/msgpack.ts';
import { encodePushPull, encodeUserStream } from '../../../src/cluster/wire/pushpull.ts';
import { frameStream, parseStream, type StreamParse, StreamScan } from '../../../src/cluster/wire/stream.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** ~1 MiB of push-pull: 4,000 node states of ~260 bytes (Serf-sized tags) and 4 KiB of user state. */
function largePushPull(): PushPull {
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < 4000; i++) {
    const meta = new Uint8Array(200).fill(i & 0xff);
    nodes.push({ name: `node-${i}.example.internal`, addr: Uint8Array.of(10, 1, i >> 8, i & 0xff), port: 7946, meta, incarnation: i, state: 'alive', vsn: [1, 5, 2, 2, 5, 4] });
  }
  return { join: false, nodes, userState: new Uint8Array(4 * KiB).fill(7) };
}

const read = MsgpackReader.prototype.read;

/**
 * Values msgpack-decoded (each an allocation), failing past `limit` so that a quadratic parser fails fast.
 * Patched by hand: a vitest spy records every call, which costs more than the parse.
 */
function countReads(limit: number): { count(): number } {
  let reads = 0;
  MsgpackReader.prototype.read = function (this: MsgpackReader, depth?: number) {
    if (++reads > limit) throw new Error(`decoded more than ${limit} values`);
    return read.call(this, depth);
  };
  return { count: () => reads };
}

afterEach(() => {
  MsgpackReader.prototype.read = read;
});

/** A decoded node state is 15 values (the map, 7 keys, 7 values). */
const READS_PER_NODE = 15;

describe('a push-pull arriving in 1 KiB chunks', () => {
  const state = largePushPull();
  const bytes = encodePushPull(state);
  // Compared by encoding: deep equality of 4,000 nodes takes seconds.
  const sameAs = (p: PushPull | undefined): boolean => p !== undefined && Buffer.from(encodePushPull(p)).equals(Buffer.from(bytes));

  it('is scanned once and decoded once by parseStream with a StreamScan', () => {
    expect(bytes.length).toBeGreaterThan(MiB);
    const reads = countReads(2 * READS_PER_NODE * state.nodes.length);
    const scan = new StreamScan();
    let result: StreamParse = { done: false, needBytes: 1 };
    let attempts = 0;
    for (let length = KiB; !result.done && length < bytes.length + KiB; length += KiB) {
      const have = Math.min(length, bytes.length);
      if (have < result.needBytes) continue;
      attempts++;
      result = parseStream(bytes.subarray(0, have), undefined, 16 * MiB, { scan });
    }
    expect(result).toMatchObject({ done: true, message: { kind: 'pushPull' }, consumed: bytes.length });
    expect(sameAs(result.done && result.message.kind === 'pushPull' ? result.message.pushPull : undefined)).toBe(true);
    // Each attempt inspects the new items and the one left incomplete: (1 + 7 keys + 7 values) per node.
    expect(scan.inspections).toBeLessThanOrEqual(READS_PER_NODE * state.nodes.length + 2 * attempts + 10);
    expect(reads.count()).toBeLessThanOrEqual(READS_PER_NODE * state.nodes.length + 20);
  });

  it('is decoded once by the stream reader, and answered as soon as its last byte is in', async () => {
    const reads = countReads(2 * READS_PER_NODE * state.nodes.length);
    const socket = new EventEmitter();
    let settled = false;
    const message = readStreamMessage(socket as unknown as Socket, undefined, { deadlineMs: 60_000, headerTimeoutMs: 60_000, maxBytes: 16 * MiB });
    void message.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let at = 0; at < bytes.length; at += KiB) {
      socket.emit('data', Buffer.from(bytes.subarray(at, at + KiB)));
      await new Promise((resolve) => setImmediate(resolve));
      if (at + KiB < bytes.length) expect(settled).toBe(false);
    }
    // No 'end': a push-pull is a request and the peer waits for the answer.
    const received = await message;
    expect(sameAs(received.kind === 'pushPull' ? received.pushPull : undefined)).toBe(true);
    expect(reads.count()).toBeLessThanOrEqual(READS_PER_NODE * state.nodes.length + 20);
  });
});

describe('chunked parsing gives what parsing at once gives', () => {
  const state: PushPull = {
    join: true,
    nodes: [
      { name: 'serf1', addr: Uint8Array.of(127, 0, 0, 1), port: 7946, meta: new Uint8Array(40).fill(3), incarnation: 1, state: 'alive', vsn: [1, 5, 2, 2, 5, 5] },
      { name: 'gone', addr: Uint8Array.of(127, 0, 0, 2), port: 7947, meta: new Uint8Array(0), incarnation: 9, state: 'left', vsn: [1, 5, 2, 2, 5, 4] },
    ],
    userState: new Uint8Array(300).fill(1),
  };
  const messages = [
    encodePushPull(state),
    encodePushPull({ join: false, nodes: [], userState: new Uint8Array(0) }),
    frameStream(encodePushPull(state), { encryptionVersion: 1, compress: true }),
    encodeUserStream(new Uint8Array(100).fill(5)),
    encodeMessage({ type: 'ping', seqNo: 4, node: 'x' }),
    encodeMessage({ type: 'err', error: 'no' }),
    Uint8Array.of(55),
  ];

  it('for every chunk size, with needBytes always past what is buffered', () => {
    for (const bytes of messages) {
      const whole = parseStream(bytes, undefined);
      expect(whole.done).toBe(true);
      for (let chunk = 1; chunk <= 9; chunk++) {
        const scan = new StreamScan();
        let result: StreamParse = { done: false, needBytes: 1 };
        for (let length = 0; !result.done && length < bytes.length + chunk; length += chunk) {
          const have = Math.min(length, bytes.length);
          if (have < result.needBytes) continue;
          result = parseStream(bytes.subarray(0, have), undefined, MiB, { scan });
          if (!result.done) expect(result.needBytes).toBeGreaterThan(have);
        }
        expect(result).toEqual(whole);
      }
    }
  });
});
