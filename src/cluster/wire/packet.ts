// One UDP packet ⇄ the messages in it, as memberlist's ingestPacket/handleCommand and rawSendMsgPacket:
// outside in: [encrypted?] [hasCrc?] then a message, a compound of messages or a compressed message,
// nested at will. Everything memberlist may send is decoded; anything else is dropped and counted.
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

/** A compressed packet may not expand past this: UDP never carries more than 64 KiB. */
const MAX_DECOMPRESSED_PACKET = 1 << 20;
/** compound inside compress inside compound...: memberlist nests at most twice; more is an attack. */
const MAX_NESTING = 4;

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

export function decodePacket(buf: Uint8Array, keyring: Keyring | undefined, stats: WireStats): PacketMessage[] {
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
  const out: PacketMessage[] = [];
  handleCommand(buf, out, stats, 0);
  return out;
}

function handleCommand(buf: Uint8Array, out: PacketMessage[], stats: WireStats, depth: number): void {
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
      for (const part of parts) handleCommand(part, out, stats, depth + 1);
      return;
    }
    if (type === MessageType.compress) {
      handleCommand(decompressMessage(body, MAX_DECOMPRESSED_PACKET), out, stats, depth + 1);
      return;
    }
    const message = decodeMessageBody(type, body);
    if (message) out.push(message);
    else stats.unknownType++;
  } catch {
    stats.malformed++;
  }
}
