// What Caxton puts in Serf-visible places: node tags in the meta, its own user payloads behind 0xCA, and
// the Serf leave intent; foreign bytes never throw.
import { describe, expect, it } from 'vitest';
import { CAXTON_MAGIC, decodePayload, encodePayload, PayloadKind } from '../../../src/cluster/caxton-payload.ts';
import { decodeTags, encodeTags } from '../../../src/cluster/node-tags.ts';
import { QuorumTracker } from '../../../src/cluster/quorum.ts';
import { serfLeaveIntent } from '../../../src/cluster/serf-leave-intent.ts';
import { MsgpackReader } from '../../../src/cluster/wire/msgpack.ts';

describe('node tags', () => {
  it('round-trip as Serf encodes them (0xff + msgpack map)', () => {
    const meta = encodeTags({ caxton: '0.1.0', api: '127.0.0.1:8080', route: '127.0.0.1:7947' });
    expect(meta[0]).toBe(0xff);
    expect(decodeTags(meta)).toEqual({ caxton: '0.1.0', api: '127.0.0.1:8080', route: '127.0.0.1:7947' });
  });

  it('read foreign or broken meta as no tags, and refuse more than 512 bytes', () => {
    expect(decodeTags(new TextEncoder().encode('role'))).toEqual({});
    expect(decodeTags(Uint8Array.of(0xff, 0x81))).toEqual({});
    expect(decodeTags(new Uint8Array(0))).toEqual({});
    expect(() => encodeTags({ big: 'x'.repeat(600) })).toThrow(/512/);
  });
});

describe('Caxton payloads', () => {
  it('start with the magic byte and ignore anything else', () => {
    const p = encodePayload(PayloadKind.keyRequest, { id: 'x' });
    expect(p[0]).toBe(CAXTON_MAGIC);
    expect(decodePayload(p)).toEqual({ kind: PayloadKind.keyRequest, body: { id: 'x' } });
    expect(decodePayload(Uint8Array.of(1, 2, 3))).toBeUndefined(); // a Serf message
    expect(decodePayload(Uint8Array.of(CAXTON_MAGIC, 1, 0x7b))).toBeUndefined(); // broken JSON
  });

  it('write the Serf leave intent as serf messageLeave {LTime, Node}', () => {
    const intent = serfLeaveIntent('cx-a', 1_700_000_000_000);
    expect(intent[0]).toBe(0);
    const map = new MsgpackReader(intent, 1).read() as Map<string, unknown>;
    expect(map.get('LTime')).toBe(1_700_000_000);
    expect(new TextDecoder().decode(map.get('Node') as Uint8Array)).toBe('cx-a');
  });
});

describe('quorum', () => {
  it('is floor(expected / 2) + 1 over the largest alive count since the last graceful leave', () => {
    const q = new QuorumTracker(0);
    expect(q.view(5)).toEqual({ alive: 5, expected: 5, quorum: 3, mode: 'read-write' });
    expect(q.view(3).mode).toBe('read-write');
    expect(q.view(2)).toEqual({ alive: 2, expected: 5, quorum: 3, mode: 'read-only' });
    q.gracefulLeave(2);
    expect(q.view(2)).toEqual({ alive: 2, expected: 2, quorum: 2, mode: 'read-write' });
    expect(new QuorumTracker(4).view(6)).toMatchObject({ expected: 4, quorum: 3 });
  });
});
