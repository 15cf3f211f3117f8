// Security review: the 1 MiB bound on decompression held per compressed message, not per datagram, so a
// 53 KB compound of 28 compressed messages expanded to 28 MiB and froze the node for seconds. A packet now
// expands to at most MAX_DECOMPRESSED_PACKET_BYTES (64 KiB: what memberlist compresses is a packet it built
// to fit a datagram) and holds at most one compressed message (memberlist compresses a packet once, whole).
import { describe, expect, it } from 'vitest';
import type { PacketMessage } from '../../../src/cluster/membership/messages.ts';
import { encodeMessage } from '../../../src/cluster/wire/codec.ts';
import { makeCompound } from '../../../src/cluster/wire/compound.ts';
import { compressMessage } from '../../../src/cluster/wire/lzw.ts';
import { decodePacket, encodePacket, MAX_DECOMPRESSED_PACKET_BYTES } from '../../../src/cluster/wire/packet.ts';
import { newWireStats } from '../../../src/cluster/wire/wire-stats.ts';

/** A compressed user message of `bytes` bytes (type byte included) of one repeated byte: it compresses well. */
const compressedUser = (bytes: number): Uint8Array => {
  const msg = new Uint8Array(bytes).fill(0x41);
  msg[0] = 8;
  return compressMessage(msg);
};
const payloadBytes = (messages: PacketMessage[]): number => messages.reduce((n, m) => n + (m.type === 'user' ? m.payload.length : 0), 0);

describe('decompression per packet', () => {
  it('a compound of compressed messages expands once: the first is read, the others are refused', () => {
    const part = compressedUser(40_000);
    const packet = makeCompound(Array.from({ length: 28 }, () => part));
    expect(packet.length).toBeLessThan(0xffff);
    const stats = newWireStats();
    const messages = decodePacket(packet, undefined, stats);
    expect(payloadBytes(messages)).toBeLessThanOrEqual(MAX_DECOMPRESSED_PACKET_BYTES);
    expect(messages).toHaveLength(1);
    expect(stats.malformed).toBe(27);
  });

  it('refuses compression inside compression', () => {
    const inner = compressMessage(encodeMessage({ type: 'ping', seqNo: 1, node: 'a' }));
    const stats = newWireStats();
    expect(decodePacket(compressMessage(makeCompound([inner, inner])), undefined, stats)).toEqual([]);
    expect(stats.malformed).toBe(2);
  });

  it('refuses a packet that expands past the bound, reads one that expands to it', () => {
    const stats = newWireStats();
    expect(decodePacket(compressedUser(MAX_DECOMPRESSED_PACKET_BYTES + 1), undefined, stats)).toEqual([]);
    expect(stats.malformed).toBe(1);
    const [message] = decodePacket(compressedUser(MAX_DECOMPRESSED_PACKET_BYTES), undefined, stats);
    expect(message.type === 'user' && message.payload.length).toBe(MAX_DECOMPRESSED_PACKET_BYTES - 1);
    expect(stats.malformed).toBe(1);
  });

  it('the largest packet a sender fills (gossip.udp_buffer_size 65507) round-trips compressed', () => {
    const payload = new Uint8Array(65_507 - 1).fill(7);
    const stats = newWireStats();
    const [message] = decodePacket(encodePacket([{ type: 'user', payload }], { encryptionVersion: 1, compress: true, crc: true }), undefined, stats);
    expect(message.type === 'user' && Buffer.compare(message.payload, payload)).toBe(0);
    expect(stats).toEqual(newWireStats());
  });

  it('the bound is the caller’s to choose', () => {
    const stats = newWireStats();
    expect(decodePacket(compressedUser(1000), undefined, stats, 999)).toEqual([]);
    expect(decodePacket(compressedUser(1000), undefined, stats, 1000)).toHaveLength(1);
    expect(stats.malformed).toBe(1);
  });
});
