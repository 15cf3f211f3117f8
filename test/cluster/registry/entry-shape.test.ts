// Security review: registry payloads went to msgpackr unchecked, and one byte of MessagePack (0x80) makes it
// allocate a Map: a gossip update [0xCA][3][array32 of ~1M 0x80] cost ~0.4 s and ~200 MB, and the same as
// push-pull state far more. A payload must now have an entry's shape (entryEnd: bounded arrays, depth and
// value count, no maps or extensions) and an update at most MAX_UPDATE_BYTES before msgpackr sees it.
import { Unpackr } from 'msgpackr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RECORD_LIMITS } from '../../../src/cluster/registry/agent-record.ts';
import { AgentRegistry } from '../../../src/cluster/registry/agent-registry.ts';
import {
  decodeStamp,
  decodeState,
  decodeUpdate,
  encodeEntry,
  encodeState,
  encodeStamp,
  encodeUpdate,
  entryEnd,
  MAX_UPDATE_BYTES,
} from '../../../src/cluster/registry/registry-codec.ts';
import type { RegistryEntry } from '../../../src/cluster/registry/registry-entry.ts';
import { RegistryGossip } from '../../../src/cluster/registry/registry-gossip.ts';
import { recordOf } from './records.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** [magic][kind] then an array32 of `count` copies of `element`: the reviewer's payload, smaller. */
function flood(kind: number, count: number, element = 0x80): Uint8Array {
  const out = new Uint8Array(7 + count).fill(element);
  out.set([0xca, kind, 0xdd]);
  new DataView(out.buffer).setUint32(3, count);
  return out;
}

/** A record at every RECORD_LIMITS bound, each character 3 bytes of UTF-8 where the limits allow any. */
function largestEntry(): RegistryEntry {
  const L = RECORD_LIMITS;
  const id = '€'.repeat(L.maxNodeIdLength);
  const name = 'a'.repeat(63);
  return {
    name,
    lamport: Number.MAX_SAFE_INTEGER,
    writer: id,
    record: {
      ...recordOf(name, id),
      version: L.maxVersion,
      capabilities: Array.from({ length: L.maxCapabilities }, () => '€'.repeat(L.maxCapabilityLength)),
      pinned: id,
      limits: { memory_pages: L.maxLimit, fuel: L.maxLimit, mailbox: L.maxLimit },
      tools: Array.from({ length: L.maxTools }, () => '€'.repeat(L.maxToolLength)),
      failover: 'wait',
    },
  };
}

describe('registry payloads are checked before msgpackr reads them', () => {
  it('an update or stamp of 60,000 empty maps is refused unread', () => {
    const unpack = vi.spyOn(Unpackr.prototype, 'unpack');
    expect(decodeUpdate(flood(3, 60_000))).toBeUndefined();
    expect(decodeStamp(flood(5, 60_000))).toBeUndefined();
    expect(unpack).not.toHaveBeenCalled();
  });

  it('a push-pull state of 1,000,000 empty maps or arrays is refused unread', () => {
    const unpack = vi.spyOn(Unpackr.prototype, 'unpack');
    const registry = new AgentRegistry({ nodeId: 'n', now: () => 0, maxRecords: 100, tombstoneTtlMs: 1000 });
    expect(registry.mergeState(flood(4, 1_000_000))).toEqual({ merged: 0, invalid: 0 });
    expect(decodeState(flood(4, 1_000_000, 0x90))).toBeUndefined();
    expect(unpack).not.toHaveBeenCalled();
  });

  it('refuses lists longer, arrays deeper or values more than an entry holds', () => {
    // [name, lamport, writer, record] with the record replaced by the given MessagePack bytes.
    const withRecord = (record: number[]) => Uint8Array.from([0x94, 0xa1, 0x78, 0x01, 0xa1, 0x77, ...record]);
    const array16 = (n: number, item: number) => [0xdc, n >> 8, n & 0xff, ...new Array<number>(n).fill(item)];
    expect(entryEnd(withRecord([0xc0]), 0)).toBe(7);
    expect(entryEnd(withRecord(array16(RECORD_LIMITS.maxTools, 0xc0)), 0)).toBeGreaterThan(0);
    expect(entryEnd(withRecord(array16(RECORD_LIMITS.maxTools + 1, 0xc0)), 0)).toBe(-1);
    expect(entryEnd(withRecord([0x91, 0x91, 0xc0]), 0)).toBeGreaterThan(0); // record > list > value
    expect(entryEnd(withRecord([0x91, 0x91, 0x91, 0xc0]), 0)).toBe(-1); // one level deeper than any list
    const eleven = (first: number[], second: number[]) => [0x9b, ...first, ...second, ...new Array<number>(9).fill(0xc0)];
    expect(entryEnd(withRecord(eleven(array16(RECORD_LIMITS.maxCapabilities, 0xc0), array16(RECORD_LIMITS.maxTools, 0xc0))), 0)).toBeGreaterThan(0);
    expect(entryEnd(withRecord(eleven(array16(RECORD_LIMITS.maxTools, 0xc0), array16(RECORD_LIMITS.maxTools, 0xc0))), 0)).toBe(-1); // too many values
    expect(entryEnd(withRecord([0x81, 0xc0, 0xc0]), 0)).toBe(-1); // a map
    expect(entryEnd(withRecord([0xd4, 0x01, 0x00]), 0)).toBe(-1); // an extension
    expect(entryEnd(Uint8Array.of(0x95, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0), 0)).toBe(-1); // not four fields
  });

  it('refuses a valid entry cut short anywhere, and a trailer', () => {
    const small = encodeUpdate({ name: 'echo', lamport: 1, writer: 'a', record: recordOf('echo', 'a', { tools: ['fs/read'], failover: 'move' }) });
    const large = encodeUpdate(largestEntry());
    for (const bytes of [small, large]) expect(entryEnd(bytes, 2)).toBe(bytes.length);
    for (let cut = 2; cut < small.length; cut++) expect(entryEnd(small.subarray(0, cut), 2)).toBe(-1);
    for (let cut = 2; cut < large.length; cut += 97) expect(entryEnd(large.subarray(0, cut), 2)).toBe(-1);
    expect(decodeUpdate(Uint8Array.from([...encodeUpdate({ name: 'x', lamport: 1, writer: 'w', record: null }), 0xc0]))).toBeUndefined();
  });

  it('keeps the largest valid record, which fits MAX_UPDATE_BYTES; an update past that is refused unread', () => {
    const largest = largestEntry();
    const bytes = encodeUpdate(largest);
    expect(bytes.length).toBeGreaterThan(64 * 1024); // larger than a gossip packet: failover.entries carries it
    expect(bytes.length).toBeLessThanOrEqual(MAX_UPDATE_BYTES);
    expect(decodeUpdate(bytes)).toEqual(largest);
    expect(decodeState(encodeState([encodeEntry(largest), encodeEntry({ name: 'x', lamport: 1, writer: 'w', record: null })]))?.entries).toHaveLength(2);
    const stamp = { name: largest.name, lamport: largest.lamport, writer: largest.writer, writtenAtMs: 1 };
    expect(decodeStamp(encodeStamp(stamp))).toEqual(stamp);

    const unpack = vi.spyOn(Unpackr.prototype, 'unpack');
    const padded = Uint8Array.from([0xca, 3, 0x94, 0xa1, 0x78, 0x01, 0xa1, 0x77, 0xc6, ...[0, 4, 0, 0], ...new Array<number>(MAX_UPDATE_BYTES).fill(0)]);
    expect(decodeUpdate(padded)).toBeUndefined();
    expect(unpack).not.toHaveBeenCalled();
  });

  it('the gossip binding counts what it refused, and still takes a valid update', () => {
    const registry = new AgentRegistry({ nodeId: 'b', now: () => 0, maxRecords: 100, tombstoneTtlMs: 1000 });
    const gossip = new RegistryGossip(registry, () => ({ maxUserPayloadBytes: 1390, sendUser: () => {} }));
    expect(gossip.notifyMessage(flood(3, 60_000))).toBe(true);
    expect(gossip.notifyMessage(flood(5, 60_000))).toBe(true);
    expect(gossip.stats.refused).toBe(2);
    expect(gossip.notifyMessage(encodeUpdate({ name: 'echo', lamport: 1, writer: 'a', record: recordOf('echo', 'a') }))).toBe(true);
    expect(registry.list().map((r) => r.name)).toEqual(['echo']);
    expect(gossip.stats.refused).toBe(2);
  });
});
