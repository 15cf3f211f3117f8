// memberlist's compoundMsg (util.go makeCompoundMessage/decodeCompoundMessage): several messages in one
// packet as [7][count u8][len u16 BE × count][parts...]. A part cut short by the packet end is dropped
// and counted, as memberlist does ("truncated messages").
import { MessageType } from '../membership/messages.ts';

/** At most 255 parts (the count is one byte), each at most 65535 bytes (the length is two). */
export const MAX_COMPOUND_PARTS = 255;

/** Bytes a compound adds: type and count (memberlist's compoundHeaderOverhead)... */
export const COMPOUND_HEADER_OVERHEAD = 2;
/** ...and the length of each part (compoundOverhead). */
export const COMPOUND_PART_OVERHEAD = 2;

export function makeCompound(parts: Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) throw new RangeError(`compound: ${parts.length} parts, at most ${MAX_COMPOUND_PARTS}`);
  let size = COMPOUND_HEADER_OVERHEAD + COMPOUND_PART_OVERHEAD * parts.length;
  for (const p of parts) {
    if (p.length > 0xffff) throw new RangeError(`compound: part of ${p.length} bytes, at most 65535`);
    size += p.length;
  }
  const out = new Uint8Array(size);
  out[0] = MessageType.compound;
  out[1] = parts.length;
  let at = 2;
  for (const p of parts) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    at += 2;
  }
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface CompoundParts {
  parts: Uint8Array[];
  /** Parts announced but cut off by the end of the buffer. */
  truncated: number;
}

/** Splits the body of a compound message (the bytes after the type byte). Throws when the header is cut. */
export function splitCompound(body: Uint8Array): CompoundParts {
  if (body.length < 1) throw new RangeError('compound: missing length byte');
  const count = body[0];
  if (body.length < 1 + 2 * count) throw new RangeError('compound: truncated length slice');
  const parts: Uint8Array[] = [];
  let at = 1 + 2 * count;
  for (let i = 0; i < count; i++) {
    const len = (body[1 + 2 * i] << 8) | body[2 + 2 * i];
    if (body.length - at < len) return { parts, truncated: count - i };
    parts.push(body.subarray(at, at + len));
    at += len;
  }
  return { parts, truncated: 0 };
}
