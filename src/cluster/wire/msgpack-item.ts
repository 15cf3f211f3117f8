// The size and kind of one msgpack item, read from its header without decoding it: what the stream scanner
// and the registry's shape check walk untrusted bytes with, allocating nothing per item.
import { MsgpackError, NeedMoreBytes } from './msgpack.ts';

/** The item inspectItem saw last: one object reused, where a result per item would allocate per input byte. */
export const msgpackItem = { entries: -1, map: false, extension: false };
const item = msgpackItem;

/**
 * The size of the msgpack item at buf[at]: a scalar, string or extension with its payload, an array or map
 * with its header only (their entry count goes to `item`). NeedMoreBytes when its header is not all here.
 */
export function inspectItem(buf: Uint8Array, at: number): number {
  if (at >= buf.length) throw new NeedMoreBytes(at + 1);
  const b = buf[at];
  item.entries = -1;
  item.map = false;
  item.extension = false;
  if (b <= 0x7f || b >= 0xe0) return 1;
  if (b <= 0x8f) return container(b & 0x0f, true, 1);
  if (b <= 0x9f) return container(b & 0x0f, false, 1);
  if (b <= 0xbf) return 1 + (b & 0x1f);
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return 1;
    case 0xc4:
    case 0xd9:
      return 2 + length(buf, at, 1);
    case 0xc5:
    case 0xda:
      return 3 + length(buf, at, 2);
    case 0xc6:
    case 0xdb:
      return 5 + length(buf, at, 4);
    case 0xc7:
      return extension(3 + length(buf, at, 1));
    case 0xc8:
      return extension(4 + length(buf, at, 2));
    case 0xc9:
      return extension(6 + length(buf, at, 4));
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    case 0xd4:
      return extension(3);
    case 0xd5:
      return extension(4);
    case 0xd6:
      return extension(6);
    case 0xd7:
      return extension(10);
    case 0xd8:
      return extension(18);
    case 0xdc:
      return container(length(buf, at, 2), false, 3);
    case 0xdd:
      return container(length(buf, at, 4), false, 5);
    case 0xde:
      return container(length(buf, at, 2), true, 3);
    case 0xdf:
      return container(length(buf, at, 4), true, 5);
    default:
      throw new MsgpackError(`msgpack: invalid descriptor 0x${b.toString(16)}`);
  }
}

function extension(size: number): number {
  item.extension = true;
  return size;
}

function container(entries: number, map: boolean, headerBytes: number): number {
  item.entries = entries;
  item.map = map;
  return headerBytes;
}

/** The big-endian length of `bytes` bytes after the descriptor at buf[at]. */
function length(buf: Uint8Array, at: number, bytes: number): number {
  if (at + 1 + bytes > buf.length) throw new NeedMoreBytes(at + 1 + bytes);
  let n = 0;
  for (let i = 1; i <= bytes; i++) n = n * 256 + buf[at + i];
  return n;
}
