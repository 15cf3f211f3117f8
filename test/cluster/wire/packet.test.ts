import { describe, expect, it } from 'vitest';
import type { PacketMessage } from '../../../src/cluster/membership/messages.ts';
import { encodeMessage } from '../../../src/cluster/wire/codec.ts';
import { makeCompound, splitCompound } from '../../../src/cluster/wire/compound.ts';
import { addCrc, crc32 } from '../../../src/cluster/wire/crc.ts';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';
import { compressMessage } from '../../../src/cluster/wire/lzw.ts';
import { decodePacket, encodePacket, type PacketOptions } from '../../../src/cluster/wire/packet.ts';
import { encryptPayload } from '../../../src/cluster/wire/security.ts';
import { newWireStats } from '../../../src/cluster/wire/wire-stats.ts';

const plain: PacketOptions = { encryptionVersion: 1, compress: false, crc: false };
const ping: PacketMessage = { type: 'ping', seqNo: 1, node: 'a' };
const suspect: PacketMessage = { type: 'suspect', incarnation: 2, node: 'b', from: 'a' };

describe('compound and CRC framing', () => {
  it('lays out a compound as [7][count][u16 BE lengths][parts]', () => {
    const out = makeCompound([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect([...out]).toEqual([7, 2, 0, 2, 0, 1, 1, 2, 3]);
    expect(splitCompound(out.subarray(1))).toEqual({ parts: [Uint8Array.of(1, 2), Uint8Array.of(3)], truncated: 0 });
    expect(splitCompound(Uint8Array.of(2, 0, 2, 0, 1, 1))).toEqual({ parts: [], truncated: 2 });
    expect(() => splitCompound(Uint8Array.of(3, 0))).toThrow(/truncated/);
  });

  it('CRC-32 IEEE as Go crc32.ChecksumIEEE, big-endian after type 12', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect([...addCrc(new TextEncoder().encode('123456789')).subarray(0, 5)]).toEqual([12, 0xcb, 0xf4, 0x39, 0x26]);
  });
});

describe('packets', () => {
  it('round-trips single, compound, compressed, CRC and encrypted packets', () => {
    const ring = new Keyring(new Uint8Array(32).fill(4));
    for (const options of [plain, { ...plain, crc: true }, { ...plain, compress: true }, { ...plain, keyring: ring, crc: true, compress: true }]) {
      const stats = newWireStats();
      expect(decodePacket(encodePacket([ping], options), options.keyring, stats)).toEqual([ping]);
      expect(decodePacket(encodePacket([ping, suspect, suspect], options), options.keyring, stats)).toEqual([ping, suspect, suspect]);
      expect(stats).toEqual(newWireStats());
    }
  });

  it('decodes what memberlist nests: compress(compound) and compound(compress)', () => {
    const compound = makeCompound([encodeMessage(ping), encodeMessage(suspect)]);
    const stats = newWireStats();
    expect(decodePacket(compressMessage(compound), undefined, stats)).toEqual([ping, suspect]);
    expect(decodePacket(makeCompound([compressMessage(encodeMessage(ping)), encodeMessage(suspect)]), undefined, stats)).toEqual([ping, suspect]);
  });

  it('drops and counts bad input without throwing', () => {
    const ring = new Keyring(new Uint8Array(16).fill(1));
    const stats = newWireStats();
    const bad = addCrc(encodeMessage(ping));
    bad[4] ^= 1;
    expect(decodePacket(bad, undefined, stats)).toEqual([]);
    expect(decodePacket(Uint8Array.of(77, 1, 2), undefined, stats)).toEqual([]);
    expect(decodePacket(Uint8Array.of(0, 0xc1), undefined, stats)).toEqual([]);
    expect(decodePacket(makeCompound([encodeMessage(ping)]).subarray(0, 5), undefined, stats)).toEqual([]);
    expect(decodePacket(Uint8Array.of(244, 1, 0x61, 0), undefined, stats)).toEqual([]);
    expect(decodePacket(Uint8Array.of(9, 0x82, 0xa4), undefined, stats)).toEqual([]);
    expect(decodePacket(encodeMessage(suspect), ring, stats)).toEqual([]);
    expect(decodePacket(encryptPayload(1, new Uint8Array(16).fill(2), encodeMessage(ping)), ring, stats)).toEqual([]);
    expect(decodePacket(new Uint8Array(0), undefined, stats)).toEqual([]);
    expect(stats).toEqual({ unknownType: 1, malformed: 3, truncatedParts: 1, badCrc: 1, decryptFailed: 1, unencrypted: 1, labelled: 1 });
  });

  it('survives random garbage', () => {
    const stats = newWireStats();
    let seed = 1;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const buf = Uint8Array.from({ length: 1 + (rand() % 64) }, rand);
      buf[0] = [0, 1, 2, 3, 4, 5, 7, 9, 11, 12, 13][rand() % 11];
      expect(() => decodePacket(buf, undefined, stats)).not.toThrow();
    }
  });
});
