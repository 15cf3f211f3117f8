// A push-pull is bounded by what it holds, not only by its bytes (security review, finding 1): 12.7 KB of LZW
// declaring 16 million empty node states made the reader build an object per decompressed byte until the
// node ran out of heap. Node states are capped, must be memberlist-shaped, and a compressed stream inflates
// no further than the stream budget allows.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PushNodeState, PushPull, Vsn } from '../../../src/cluster/membership/messages.ts';
import { NetTransport } from '../../../src/cluster/transport/net-transport.ts';
import { StreamBudget } from '../../../src/cluster/transport/stream-budget.ts';
import { readStreamMessage } from '../../../src/cluster/transport/stream-reader.ts';
import { compressMessage } from '../../../src/cluster/wire/lzw.ts';
import { MsgpackReader, MsgpackWriter } from '../../../src/cluster/wire/msgpack.ts';
import { encodePushPull, pushPullSize } from '../../../src/cluster/wire/pushpull.ts';
import { parseStream, StreamError, StreamTooLarge } from '../../../src/cluster/wire/stream.ts';

const MiB = 1024 * 1024;

function header(nodes: number, userStateLen = 0): Uint8Array {
  const w = new MsgpackWriter(64);
  w.byte(6).mapHeader(3).str('Join').bool(false).str('Nodes').uint(nodes).str('UserStateLen').uint(userStateLen);
  return w.finish();
}

/** The reviewer's payload: a header declaring `nodes` node states, then that many empty maps. */
function emptyMaps(nodes: number): Uint8Array {
  const head = header(nodes);
  const out = new Uint8Array(head.length + nodes).fill(0x80);
  out.set(head);
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

/**
 * Counts msgpack values decoded (each one an allocation), failing past `limit`: the old reader built an
 * object per input byte, and this keeps such a regression from taking the test's heap with it.
 */
function countReads(limit: number): { count(): number } {
  const read = MsgpackReader.prototype.read;
  let reads = 0;
  vi.spyOn(MsgpackReader.prototype, 'read').mockImplementation(function (this: MsgpackReader, depth?: number) {
    if (++reads > limit) throw new Error(`decoded more than ${limit} values`);
    return read.call(this, depth);
  });
  return { count: () => reads };
}

afterEach(() => {
  vi.restoreAllMocks();
});

const node = (i: number): PushNodeState => ({ name: `n${i}`, addr: Uint8Array.of(10, 0, 0, i & 0xff), port: 7946, meta: new Uint8Array(0), incarnation: i, state: 'alive', vsn: [1, 5, 2, 2, 5, 4] });

describe('push-pull node states', () => {
  it('refuses a header declaring more than maxNodes at once, before any node state arrives', () => {
    const reads = countReads(100);
    const bytes = concat(header(16_000_000), new Uint8Array(100).fill(0x80));
    expect(() => parseStream(bytes, undefined, 16 * MiB)).toThrow(/16000000 node states, more than the limit of 5000/);
    expect(() => parseStream(header(4), undefined, 16 * MiB, { maxNodes: 3 })).toThrow(StreamError);
    expect(reads.count()).toBeLessThan(20);
  });

  it('refuses the 12.7 KB compressed push-pull declaring 16M nodes without decoding its node states', () => {
    const wire = compressMessage(emptyMaps(16_000_000));
    expect(wire.length).toBeLessThan(13_000);
    const reads = countReads(1000);
    expect(() => parseStream(wire, undefined, 16 * MiB)).toThrow(/more than the limit/);
    expect(reads.count()).toBeLessThan(20);
  }, 30_000);

  it('takes a push-pull of exactly maxNodes', () => {
    const state: PushPull = { join: false, nodes: [node(1), node(2), node(3)], userState: new Uint8Array(0) };
    const bytes = encodePushPull(state);
    expect(parseStream(bytes, undefined, MiB, { maxNodes: 3 })).toEqual({ done: true, message: { kind: 'pushPull', pushPull: state }, consumed: bytes.length });
    expect(() => parseStream(bytes, undefined, MiB, { maxNodes: 2 })).toThrow(StreamError);
  });

  it('refuses node states that are not maps naming, addressing and stating a node', () => {
    expect(() => parseStream(emptyMaps(3), undefined, MiB)).toThrow(/node state without Name/);
    expect(() => parseStream(concat(header(1), Uint8Array.of(0x01)), undefined, MiB)).toThrow(/not a map/);
    const w = new MsgpackWriter(64);
    w.mapHeader(3).str('Addr').bytes(Uint8Array.of(1, 2, 3, 4)).str('Name').str('a').str('State').uint(0);
    expect(() => parseStream(concat(header(1), w.finish()), undefined, MiB)).toThrow(/without Port/);
    // Meta and Vsn may be absent: pre-versioned peers send no Vsn.
    const old = new MsgpackWriter(64);
    old.mapHeader(5).str('Addr').bytes(Uint8Array.of(1, 2, 3, 4)).str('Incarnation').uint(3).str('Name').str('a').str('Port').uint(80).str('State').uint(0);
    expect(parseStream(concat(header(1), old.finish()), undefined, MiB)).toMatchObject({ done: true, message: { pushPull: { nodes: [{ name: 'a', port: 80, incarnation: 3, vsn: [0, 0, 0, 0, 0, 0] }] } } });
  });

  it('refuses structs that nest containers or carry too many fields, before decoding them', () => {
    const reads = countReads(100);
    // A node name of 1,000 empty arrays (each would be an object), a meta of 65,535 ints (a JS array of them).
    const nodeWith = (field: string, arrayHeader: number[], body: Uint8Array): Uint8Array => {
      const w = new MsgpackWriter(64);
      w.mapHeader(1).str(field);
      for (const b of arrayHeader) w.byte(b);
      return concat(header(1), w.finish(), body);
    };
    expect(() => parseStream(nodeWith('Name', [0xdc, 0x03, 0xe8], new Uint8Array(1000).fill(0x90)), undefined, MiB)).toThrow(/nests containers/);
    expect(() => parseStream(nodeWith('Meta', [0xdc, 0xff, 0xff], new Uint8Array(0xffff)), undefined, MiB)).toThrow(/field of 65535 elements/);
    const junk = new MsgpackWriter(64);
    junk.byte(6).byte(0xde).byte(0).byte(40);
    for (let i = 0; i < 40; i++) junk.str(`k${i}`).uint(i);
    expect(() => parseStream(junk.finish(), undefined, MiB)).toThrow(/a struct of 40 fields/);
    expect(reads.count()).toBeLessThan(20);
  });
});

describe('a compressed stream inflates within the budget', () => {
  // Nodes: 0 and 4 MiB of user state: 4 KiB of LZW.
  const bomb = compressMessage(concat(header(0, 4 * MiB), new Uint8Array(4 * MiB)));

  it('parseStream stops decompressing at maxInflatedBytes', () => {
    expect(bomb.length).toBeLessThan(8 * 1024);
    expect(() => parseStream(bomb, undefined, 16 * MiB, { maxInflatedBytes: MiB })).toThrow(StreamTooLarge);
    expect(parseStream(bomb, undefined, 16 * MiB)).toMatchObject({ done: true, consumed: bomb.length });
  });

  it('the stream reader lets it inflate only to what the shared budget has left', async () => {
    // The outcome's name only: printing a 4 MiB message in a failure would take minutes.
    const read = (budget: StreamBudget): Promise<string> => {
      const socket = new EventEmitter();
      const message = readStreamMessage(socket as unknown as Socket, undefined, { deadlineMs: 5000, headerTimeoutMs: 5000, maxBytes: 16 * MiB, budget });
      socket.emit('data', Buffer.from(bomb));
      return message.then(
        (m) => m.kind,
        (e: Error) => e.constructor.name,
      );
    };
    const spent = new StreamBudget(64 * MiB, 64 * 1024);
    expect(spent.tryTake(62 * MiB)).toBe(true);
    expect(await read(spent)).toBe('StreamTooLarge');
    expect(await read(new StreamBudget(64 * MiB, 64 * 1024))).toBe('pushPull');
  });
});

describe('NetTransport', () => {
  it('answers a compressed push-pull of too many node states with an error, and counts it', async () => {
    const t = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0 });
    try {
      const handler = vi.fn(() => ({ join: false, nodes: [], userState: new Uint8Array(0) }));
      t.onPushPull(handler);
      const answer = await new Promise<Buffer>((resolve) => {
        const got: Buffer[] = [];
        const s = connect({ host: '127.0.0.1', port: t.localAddress.port }, () => s.end(compressMessage(emptyMaps(100_000))));
        s.on('data', (d) => got.push(d));
        s.on('error', () => {});
        s.once('close', () => resolve(Buffer.concat(got)));
      });
      expect(answer.toString('latin1')).toMatch(/more than the limit of 5000/);
      expect(t.stats.streamErrors).toBe(1);
      expect(handler).not.toHaveBeenCalled();
    } finally {
      await t.close();
    }
  });
});

describe('pushPullSize', () => {
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const nodeState: fc.Arbitrary<PushNodeState> = fc.record({
    name: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constant('x'.repeat(70_000))),
    addr: bytes(16),
    port: fc.integer({ min: 0, max: 0xffff }),
    meta: fc.oneof(bytes(40), fc.constant(new Uint8Array(70_000))),
    incarnation: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff })),
    state: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
    vsn: fc.constant<Vsn>([1, 5, 2, 2, 5, 4]),
  });

  it('is the encoded length, without encoding', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(nodeState, { maxLength: 5 }), bytes(300), (join, nodes, userState) => {
        const state: PushPull = { join, nodes, userState };
        expect(pushPullSize(state)).toBe(encodePushPull(state).length);
      }),
      { numRuns: 300 },
    );
  });
});
