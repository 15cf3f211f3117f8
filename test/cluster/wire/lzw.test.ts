import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compressMessage, decompressMessage, lzwCompress, lzwDecompress } from '../../../src/cluster/wire/lzw.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('LZW as Go compress/lzw (LSB, litWidth 8)', () => {
  // Worked by hand from Go's writer: codes are 9 bits wide, packed least significant bit first, no clear
  // code at the start, the saved code then EOF (257) on Close.
  it('matches hand-derived vectors', () => {
    expect(hex(lzwCompress(new Uint8Array(0)))).toBe('0101'); // EOF alone
    expect(hex(lzwCompress(Uint8Array.of(0x61)))).toBe('610202'); // 97 | 257 << 9
    expect(hex(lzwCompress(Uint8Array.of(0x61, 0x61)))).toBe('61c20404'); // 97 | 97 << 9 | 257 << 18
  });

  it('round-trips text, runs, and incompressible data past the 4096-code clear', () => {
    const inputs = [
      new TextEncoder().encode('TOBEORNOTTOBEORTOBEORNOT#'.repeat(50)),
      new Uint8Array(100_000).fill(7),
      new Uint8Array(randomBytes(20_000)),
      Uint8Array.from({ length: 50_000 }, (_, i) => (i * 31) % 251),
    ];
    for (const input of inputs) expect(lzwDecompress(lzwCompress(input), 1 << 20)).toEqual(input);
  });

  it('compresses repetitive data and refuses to expand past the limit', () => {
    const input = new Uint8Array(100_000).fill(1);
    const packed = lzwCompress(input);
    expect(packed.length).toBeLessThan(2000);
    expect(() => lzwDecompress(packed, 1000)).toThrow(/larger/);
    expect(() => lzwDecompress(Uint8Array.of(0xff, 0xff), 100)).toThrow();
  });

  it("wraps in memberlist's compress{Algo, Buf} message", () => {
    const msg = new TextEncoder().encode('hello hello hello');
    const c = compressMessage(msg);
    expect(c[0]).toBe(9);
    expect(hex(c.subarray(1, 12))).toBe('82' + 'a4' + Buffer.from('Algo').toString('hex') + '00' + 'a3' + Buffer.from('Buf').toString('hex'));
    expect(decompressMessage(c.subarray(1), 1000)).toEqual(msg);
  });
});
