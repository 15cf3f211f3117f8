import { describe, expect, it } from 'vitest';
import type { PacketMessage } from '../../../src/cluster/membership/messages.ts';
import { decodeMessage, encodeMessage } from '../../../src/cluster/wire/codec.ts';
import { MsgpackReader, MsgpackWriter } from '../../../src/cluster/wire/msgpack.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const s = (t: string): string => Buffer.from(t).toString('hex');
const fixstr = (t: string): string => (0xa0 | t.length).toString(16) + s(t);

describe('msgpack as go-msgpack MsgpackHandle writes it', () => {
  it('writes strings and byte slices as raw str, never str8 or bin', () => {
    const w = new MsgpackWriter();
    w.str('x'.repeat(31)).str('y'.repeat(32)).bytes(new Uint8Array(40)).bytes(new Uint8Array(0));
    const out = w.finish();
    expect(out[0]).toBe(0xbf);
    expect(hex(out.subarray(32, 35))).toBe('da0020');
    expect(hex(out.subarray(67, 70))).toBe('da0028');
    expect(out[out.length - 1]).toBe(0xc0); // an empty Go slice left nil
  });

  it('writes the smallest unsigned integer form', () => {
    const w = new MsgpackWriter();
    w.uint(127).uint(128).uint(256).uint(65536).uint(2 ** 32);
    expect(hex(w.finish())).toBe('7f' + 'cc80' + 'cd0100' + 'ce00010000' + 'cf0000000100000000');
  });

  it('reads str8, bin, signed ints and nested values', () => {
    const bytes = Buffer.from('93' + 'd903616263' + 'c4020102' + 'd0fb', 'hex');
    const v = new MsgpackReader(new Uint8Array(bytes)).read() as unknown[];
    expect(Buffer.from(v[0] as Uint8Array).toString()).toBe('abc');
    expect([...(v[1] as Uint8Array)]).toEqual([1, 2]);
    expect(v[2]).toBe(-5);
  });
});

describe('message codec', () => {
  it('encodes a ping byte for byte as memberlist (sorted Go field names, omitempty)', () => {
    const bytes = encodeMessage({ type: 'ping', seqNo: 1, node: 'a' });
    expect(hex(bytes)).toBe('00' + '82' + fixstr('Node') + fixstr('a') + fixstr('SeqNo') + '01');
  });

  it('encodes an alive message with Vsn as a 6-byte raw string', () => {
    const bytes = encodeMessage({
      type: 'alive',
      incarnation: 1,
      node: 'n1',
      addr: Uint8Array.of(127, 0, 0, 1),
      port: 7946,
      meta: Uint8Array.of(0x6d),
      vsn: [1, 5, 2, 2, 5, 4],
    });
    expect(hex(bytes)).toBe(
      '04' + '86' + fixstr('Addr') + 'a47f000001' + fixstr('Incarnation') + '01' + fixstr('Meta') + 'a16d' + fixstr('Node') + fixstr('n1') +
        fixstr('Port') + 'cd1f0a' + fixstr('Vsn') + 'a6010502020504',
    );
  });

  it('encodes an ack without payload as memberlist does (nil Payload)', () => {
    expect(hex(encodeMessage({ type: 'ackResp', seqNo: 300, payload: new Uint8Array(0) }))).toBe(
      '02' + '82' + fixstr('Payload') + 'c0' + fixstr('SeqNo') + 'cd012c',
    );
  });

  it('round-trips every message type', () => {
    const messages: PacketMessage[] = [
      { type: 'ping', seqNo: 7, node: 'b', sourceAddr: Uint8Array.of(10, 0, 0, 1), sourcePort: 7946, sourceNode: 'a' },
      { type: 'indirectPing', seqNo: 2 ** 32 - 1, target: Uint8Array.of(10, 0, 0, 2), port: 1, node: 'c', nack: true, sourceAddr: Uint8Array.of(1, 2, 3, 4), sourcePort: 2, sourceNode: 'a' },
      { type: 'ackResp', seqNo: 9, payload: Uint8Array.of(1, 2, 3) },
      { type: 'nackResp', seqNo: 9 },
      { type: 'err', error: 'boom' },
      { type: 'suspect', incarnation: 3, node: 'x', from: 'y' },
      { type: 'dead', incarnation: 4, node: 'x', from: 'x' },
      { type: 'alive', incarnation: 70000, node: 'ñode', addr: new Uint8Array(16), port: 65535, meta: new Uint8Array(512).fill(7), vsn: [1, 5, 2, 2, 5, 5] },
      { type: 'user', payload: Uint8Array.of(0xff, 0, 1) },
    ];
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('decodes maps in any key order, ignores unknown keys, accepts bin for []byte', () => {
    // {"SeqNo": 5, "Extra": [1], "Payload": bin(2)} as another encoder may write it
    const body = '83' + fixstr('SeqNo') + '05' + fixstr('Extra') + '9101' + fixstr('Payload') + 'c4020a0b';
    expect(decodeMessage(new Uint8Array(Buffer.from('02' + body, 'hex')))).toEqual({ type: 'ackResp', seqNo: 5, payload: Uint8Array.of(10, 11) });
  });

  it('returns undefined for unknown types and throws on malformed bodies', () => {
    expect(decodeMessage(Uint8Array.of(99, 0x80))).toBeUndefined();
    expect(() => decodeMessage(Uint8Array.of(0, 0x82, 0xa4))).toThrow();
    expect(() => decodeMessage(Uint8Array.of(0, 0xc1))).toThrow();
  });
});
