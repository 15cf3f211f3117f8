// The framing of a routing link: a 6-byte header (u32 payload length, u8 type, u8 flags) and a payload.
// MESSAGES payloads are MessagePack values back to back (one per message), so a batch is the concatenation of
// messages encoded once, when they were queued. Pure functions: the link and the fuzz tests use the same code.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';

export const FRAME_HEADER_BYTES = 6;
/** Bumped when a frame's meaning changes; a peer speaking another version is refused at hello. */
export const ROUTING_PROTOCOL_VERSION = 1;

export const FrameType = {
  hello: 1,
  messages: 2,
  ack: 3,
  request: 4,
  response: 5,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export const FLAG_DEFLATE = 0x01;

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

export function encodeValue(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/**
 * Every value of a MESSAGES payload, in order. Throws on anything that is not a whole sequence of values, and
 * FrameError past `maxValues` (decoding stops there).
 */
export function decodeValues(bytes: Uint8Array, maxValues = Infinity): unknown[] {
  if (bytes.length === 0) return [];
  if (maxValues === Infinity) return unpackr.unpackMultiple(bytes) as unknown[];
  const values: unknown[] = [];
  let over = false;
  unpackr.unpackMultiple(bytes, (value: unknown) => {
    if (values.length >= maxValues) {
      over = true;
      return false;
    }
    values.push(value);
    return true;
  });
  if (over) throw new FrameError(`more than ${maxValues} values`);
  return values;
}

/** One frame with the given payload parts (written back to back), deflated when `compress` says so. */
export function encodeFrame(type: number, parts: readonly Uint8Array[], payloadBytes: number, compressAbove = Infinity): Buffer {
  let payload: Buffer | undefined;
  let flags = 0;
  if (payloadBytes > compressAbove) {
    const joined = parts.length === 1 ? parts[0] : Buffer.concat(parts, payloadBytes);
    const deflated = deflateRawSync(joined, { level: 1 });
    if (deflated.length < payloadBytes) {
      payload = deflated;
      flags = FLAG_DEFLATE;
    }
  }
  const length = payload ? payload.length : payloadBytes;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame[4] = type;
  frame[5] = flags;
  if (payload) payload.copy(frame, FRAME_HEADER_BYTES);
  else {
    let at = FRAME_HEADER_BYTES;
    for (const p of parts) {
      frame.set(p, at);
      at += p.length;
    }
  }
  return frame;
}

export function encodeValueFrame(type: number, value: unknown, compressAbove = Infinity): Buffer {
  const body = encodeValue(value);
  return encodeFrame(type, [body], body.length, compressAbove);
}

export interface Frame {
  type: number;
  payload: Buffer;
}

export class FrameError extends Error {}

/** The payload of a frame as sent: inflated (bounded by maxBytes) when it was deflated. */
export function framePayload(flags: number, payload: Buffer, maxBytes: number): Buffer {
  if (flags === 0) return payload;
  if (flags !== FLAG_DEFLATE) throw new FrameError(`unknown frame flags ${flags}`);
  try {
    return inflateRawSync(payload, { maxOutputLength: maxBytes });
  } catch (error) {
    throw new FrameError(`bad deflated frame: ${(error as Error).message}`);
  }
}

/**
 * Splits a byte stream into frames. Holds at most one partial frame, never more than maxFrameBytes + header:
 * a larger announced length is refused before any of it is buffered.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Frames completed by `chunk`. Throws FrameError on an oversized or unknown-flag frame. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      let head = this.chunks[0];
      if (head.length < FRAME_HEADER_BYTES) {
        head = this.flatten();
      }
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes is above the bound of ${this.maxFrameBytes}`);
      const total = FRAME_HEADER_BYTES + length;
      if (this.buffered < total) break;
      if (head.length < total) head = this.flatten();
      const type = head[4];
      const flags = head[5];
      const payload = framePayload(flags, head.subarray(FRAME_HEADER_BYTES, total), this.maxFrameBytes);
      frames.push({ type, payload });
      if (head.length === total) this.chunks.shift();
      else this.chunks[0] = head.subarray(total);
      this.buffered -= total;
    }
    return frames;
  }

  /** Bytes buffered past the last whole frame. */
  rest(): Buffer {
    return this.chunks.length === 0 ? Buffer.alloc(0) : this.flatten();
  }

  private flatten(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }
}
