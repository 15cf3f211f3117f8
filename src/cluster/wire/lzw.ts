// Go's compress/lzw with LSB bit order and 8-bit literals (what memberlist's compressPayload uses), and
// memberlist's compress{Algo, Buf} wrapper: [9][msgpack {Algo: 0, Buf: <lzw bytes>}].
// Codes: 0..255 literals, 256 clear, 257 eof, then the table; 9 to 12 bits wide. Like Go's writer we
// emit no leading clear code, and send a clear when the table would reach code 4095.
import { MessageType } from '../membership/messages.ts';
import { fieldBytes, fieldUint, MsgpackReader, MsgpackWriter, readStruct } from './msgpack.ts';

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH;
const EOF = CLEAR + 1;
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1;

/** memberlist's lzwAlgo, the only compressionType there is. */
export const LZW_ALGO = 0;

export function lzwCompress(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  const write = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
  };
  let table = new Map<number, number>();
  // Returns true when the table was full and has been cleared.
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      write(CLEAR);
      width = LIT_WIDTH + 1;
      hi = CLEAR + 1;
      overflow = CLEAR << 1;
      table = new Map();
      return true;
    }
    return false;
  };
  if (input.length > 0) {
    let code = input[0];
    for (let i = 1; i < input.length; i++) {
      const literal = input[i];
      const key = (code << 8) | literal;
      const hit = table.get(key);
      if (hit !== undefined) {
        code = hit;
        continue;
      }
      write(code);
      code = literal;
      if (incHi()) continue;
      table.set(key, hi);
    }
    write(code);
    incHi();
  }
  write(EOF);
  if (nBits > 0) out.push(bits & 0xff);
  return Uint8Array.from(out);
}

/** Decompression reached its output bound: a zip bomb, or more than the caller can hold now. */
export class LzwOutputTooLarge extends Error {}

/** Decompresses, refusing to produce more than maxOutput bytes (a hostile peer's zip bomb). */
export function lzwDecompress(input: Uint8Array, maxOutput: number): Uint8Array {
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const scratch = new Uint8Array(1 << MAX_WIDTH);
  // One buffer grown by doubling: a small array per code cost ~100 bytes of heap per byte of incompressible output.
  let out = new Uint8Array(Math.min(maxOutput, 4 * input.length + 64));
  let produced = 0;
  const room = (n: number): void => {
    if (produced + n > maxOutput) throw new LzwOutputTooLarge(`lzw: output larger than ${maxOutput} bytes`);
    if (produced + n <= out.length) return;
    let size = Math.max(64, out.length * 2);
    while (size < produced + n) size *= 2;
    const next = new Uint8Array(Math.min(size, maxOutput));
    next.set(out.subarray(0, produced));
    out = next;
  };
  let pos = 0;
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;
  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new Error('lzw: unexpected EOF');
      bits |= input[pos++] << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code < CLEAR) {
      room(1);
      out[produced++] = code;
      if (last !== -1) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    } else if (code === EOF) {
      break;
    } else if (code <= hi) {
      let i = scratch.length - 1;
      let c = code;
      if (code === hi && last !== -1) {
        // hi expands to the last expansion followed by its own first byte.
        c = last;
        while (c >= CLEAR) c = prefix[c];
        scratch[i--] = c;
        c = last;
      } else if (code === hi) {
        throw new Error('lzw: invalid code');
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c];
        c = prefix[c];
      }
      scratch[i] = c;
      room(scratch.length - i);
      out.set(scratch.subarray(i), produced);
      produced += scratch.length - i;
      if (last !== -1) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw new Error('lzw: invalid code');
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = -1;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
  return out.subarray(0, produced);
}

/** memberlist's compressPayload: the whole message wrapped as a compress message. */
export function compressMessage(msg: Uint8Array): Uint8Array {
  const buf = lzwCompress(msg);
  const w = new MsgpackWriter(buf.length + 16);
  w.byte(MessageType.compress).mapHeader(2).str('Algo').uint(LZW_ALGO).str('Buf').bytes(buf);
  return w.finish();
}

/**
 * Reads a compress{Algo, Buf} body from `reader` (positioned after the type byte) and returns the inner
 * message (with its own type byte). Throws NeedMoreBytes when a stream has not delivered it all yet.
 */
export function readCompressed(reader: MsgpackReader, maxOutput: number): Uint8Array {
  const c = readStruct(reader.read(), 'compress');
  const algo = fieldUint(c, 'Algo', 0xff);
  if (algo !== LZW_ALGO) throw new Error(`Cannot decompress unknown algorithm ${algo}`);
  return lzwDecompress(fieldBytes(c, 'Buf'), maxOutput);
}

/** memberlist's decompressPayload: the body of a compress message (after its type byte). */
export function decompressMessage(body: Uint8Array, maxOutput: number): Uint8Array {
  return readCompressed(new MsgpackReader(body), maxOutput);
}
