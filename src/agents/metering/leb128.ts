// Unsigned LEB128, as the WebAssembly binary format writes section sizes, counts and limits: what the
// module rewriters (memory-clamp.ts, table-clamp.ts, memory-import.ts) need to patch a section in place.

/** Reads a u32 at `pos`; returns it and the position after it. */
export function readU32(bytes: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[pos++];
    if (byte === undefined) throw new Error('truncated LEB128');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: pos };
    shift += 7;
    if (shift > 35) throw new Error('LEB128 too long');
  }
}

/** The shortest encoding of a u32. */
export function writeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}
