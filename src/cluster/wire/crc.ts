// memberlist's hasCrcMsg (net.go): [12][CRC-32 IEEE of the rest, big-endian u32][message]. memberlist adds
// it for peers that understand protocol 5 and checks it on every packet that starts with the type.
import { MessageType } from '../membership/messages.ts';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 with the IEEE polynomial, as Go's crc32.ChecksumIEEE. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const CRC_HEADER_BYTES = 5;

export function addCrc(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(CRC_HEADER_BYTES + msg.length);
  out[0] = MessageType.hasCrc;
  new DataView(out.buffer).setUint32(1, crc32(msg));
  out.set(msg, CRC_HEADER_BYTES);
  return out;
}

export function hasCrcHeader(buf: Uint8Array): boolean {
  return buf.length >= CRC_HEADER_BYTES && buf[0] === MessageType.hasCrc;
}

/** The message inside a hasCrc packet, or undefined when the checksum does not match. */
export function checkCrc(buf: Uint8Array): Uint8Array | undefined {
  const expected = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1);
  const msg = buf.subarray(CRC_HEADER_BYTES);
  return crc32(msg) === expected ? msg : undefined;
}
