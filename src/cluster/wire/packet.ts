// One UDP packet ⇄ the messages in it, as memberlist's ingestPacket/handleCommand and rawSendMsgPacket:
// outside in: [encrypted?] [hasCrc?] then a message, a compound of messages or a compressed message (at
// most one per packet). Everything memberlist may send is decoded; anything else is dropped and counted.
import { MessageType, type PacketMessage } from '../membership/messages.ts';
import { decodeMessageBody, encodeMessage } from './codec.ts';
import { makeCompound, splitCompound } from './compound.ts';
import { addCrc, checkCrc, hasCrcHeader } from './crc.ts';
import type { Keyring } from './keyring.ts';
import { compressMessage, decompressMessage } from './lzw.ts';
import { DecryptError, decryptPayload, type EncryptionVersion, encryptPayload } from './security.ts';
import type { WireStats } from './wire-stats.ts';

export interface PacketOptions {
  /** When set, packets are encrypted with its primary key and plaintext input is refused. */
  keyring?: Keyring;
  /** memberlist speaks version 1 from protocol 2 on; 0 only for protocol-1 peers. */
  encryptionVersion: EncryptionVersion;
  /** Wrap in LZW when that makes the packet smaller (memberlist EnableCompression). */
  compress: boolean;
  /** Prefix a CRC-32 (peers of protocol >= 5 check it). */
  crc: boolean;
}

/**
 * What a packet may expand to. memberlist compresses a packet it built to fit its UDP buffer, once and as a
 * whole (rawSendMsgPacket), so a legitimate one expands to at most a datagram: under 64 KiB (Caxton's
 * gossip.udp_buffer_size is at most 65507 too). Hence also one compressed message per packet: with a bound
 * per message, a 53 KB compound of 28 of them expanded to 28 MiB.
 */
export const MAX_DECOMPRESSED_PACKET_BYTES = 64 * 1024;
/** compound inside compress inside compound...: memberlist nests at most twice; more is an attack. */
const MAX_NESTING = 4;

interface Decoding {
  out: PacketMessage[];
  stats: WireStats;
  maxDecompressedBytes: number;
  /** A compressed message was met already. */
  decompressed: boolean;
}

export function encodePacket(messages: PacketMessage[], options: PacketOptions): Uint8Array {
  const parts = messages.map(encodeMessage);
  return framePacket(parts.length === 1 ? parts[0] : makeCompound(parts), options);
}

/** Compression, CRC and encryption around an already encoded message (memberlist's rawSendMsgPacket). */
export function framePacket(msg: Uint8Array, options: PacketOptions): Uint8Array {
  if (options.compress) {
    const compressed = compressMessage(msg);
    if (compressed.length < msg.length) msg = compressed;
  }
  if (options.crc) msg = addCrc(msg);
  if (options.keyring) msg = encryptPayload(options.encryptionVersion, options.keyring.getPrimaryKey(), msg);
  return msg;
}

/** `maxDecompressedBytes` replaces MAX_DECOMPRESSED_PACKET_BYTES (tests, or a transport with its own bound). */
export function decodePacket(
  buf: Uint8Array,
  keyring: Keyring | undefined,
  stats: WireStats,
  maxDecompressedBytes: number = MAX_DECOMPRESSED_PACKET_BYTES,
): PacketMessage[] {
  if (buf.length === 0) {
    stats.malformed++;
    return [];
  }
  if (buf[0] === MessageType.hasLabel) {
    stats.labelled++;
    return [];
  }
  if (keyring) {
    try {
      buf = decryptPayload(keyring.getKeys(), buf);
    } catch (e) {
      // A plaintext memberlist packet starts with a type byte >= 2 or is a ping/indirect (0/1) that fails
      // to decrypt: either way it is refused, as with GossipVerifyIncoming.
      if (e instanceof DecryptError && buf[0] > 1) stats.unencrypted++;
      else stats.decryptFailed++;
      return [];
    }
  }
  if (hasCrcHeader(buf)) {
    const inner = checkCrc(buf);
    if (!inner) {
      stats.badCrc++;
      return [];
    }
    buf = inner;
  }
  const decoding: Decoding = { out: [], stats, maxDecompressedBytes, decompressed: false };
  handleCommand(buf, decoding, 0);
  return decoding.out;
}

function handleCommand(buf: Uint8Array, d: Decoding, depth: number): void {
  const { stats } = d;
  if (buf.length === 0 || depth > MAX_NESTING) {
    stats.malformed++;
    return;
  }
  const type = buf[0];
  const body = buf.subarray(1);
  try {
    if (type === MessageType.compound) {
      const { parts, truncated } = splitCompound(body);
      stats.truncatedParts += truncated;
      for (const part of parts) handleCommand(part, d, depth + 1);
      return;
    }
    if (type === MessageType.compress) {
      // memberlist compresses a packet once, as a whole (rawSendMsgPacket): a second compressed message
      // in one datagram would only multiply what the datagram makes us expand.
      if (d.decompressed) throw new RangeError('packet: more than one compressed message');
      d.decompressed = true;
      handleCommand(decompressMessage(body, d.maxDecompressedBytes), d, depth + 1);
      return;
    }
    const message = decodeMessageBody(type, body);
    if (message) d.out.push(message);
    else stats.unknownType++;
  } catch {
    stats.malformed++;
  }
}
