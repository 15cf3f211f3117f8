// Framing of one message on a TCP stream, as memberlist's rawSendMsgStream/readStream: the message, maybe
// wrapped in a compress message, maybe then encrypted as [10][length u32 BE][encrypted payload] with the
// 5 header bytes as additional data. Streams carry no length otherwise: the reader parses as bytes come
// and says when it needs more.
import { MessageType, type PacketMessage, type PushPull } from '../membership/messages.ts';
import { decodeMessageBody } from './codec.ts';
import type { Keyring } from './keyring.ts';
import { compressMessage, readCompressed } from './lzw.ts';
import { MsgpackReader, NeedMoreBytes } from './msgpack.ts';
import { MAX_PUSH_STATE_BYTES, readPushPull, readUserStream } from './pushpull.ts';
import { decryptPayload, type EncryptionVersion, encryptedLength, encryptPayload } from './security.ts';
import { describeError } from '../../errors.ts';

export type StreamMessage =
  | { kind: 'pushPull'; pushPull: PushPull }
  /** ping, ackResp, err or a user message (type 'user'). */
  | { kind: 'message'; message: PacketMessage }
  | { kind: 'unknown'; messageType: number };

/** needBytes: the stream must hold at least this many bytes before parsing again can make progress. */
export type StreamParse = { done: false; needBytes: number } | { done: true; message: StreamMessage; consumed: number };

/** A stream the peer got wrong; memberlist answers with an errResp carrying the text. */
export class StreamError extends Error {}

export interface StreamOptions {
  keyring?: Keyring;
  encryptionVersion: EncryptionVersion;
  compress: boolean;
}

const STREAM_HEADER_BYTES = 5;
const needMore = (needBytes: number): StreamParse => ({ done: false, needBytes });

export function frameStream(msg: Uint8Array, options: StreamOptions): Uint8Array {
  if (options.compress) msg = compressMessage(msg);
  if (!options.keyring) return msg;
  const header = new Uint8Array(STREAM_HEADER_BYTES);
  header[0] = MessageType.encrypt;
  new DataView(header.buffer).setUint32(1, encryptedLength(options.encryptionVersion, msg.length));
  const sealed = encryptPayload(options.encryptionVersion, options.keyring.getPrimaryKey(), msg, header);
  const out = new Uint8Array(STREAM_HEADER_BYTES + sealed.length);
  out.set(header);
  out.set(sealed, STREAM_HEADER_BYTES);
  return out;
}

/**
 * Parses the first message of `buf` (all bytes received so far on the stream). A message longer than
 * `maxBytes` is refused as soon as its header says so (a declared encrypted length, push-pull user state
 * or user message length), before its body is buffered; memberlist's own limit is 20 MiB.
 */
export function parseStream(buf: Uint8Array, keyring: Keyring | undefined, maxBytes: number = MAX_PUSH_STATE_BYTES): StreamParse {
  if (buf.length < 1) return needMore(1);
  if (buf[0] === MessageType.encrypt) {
    if (!keyring) throw new StreamError('Remote state is encrypted and encryption is not configured');
    if (buf.length < STREAM_HEADER_BYTES) return needMore(STREAM_HEADER_BYTES);
    const length = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1);
    if (length > maxBytes) throw new StreamTooLarge(`Remote node state is larger than limit (${length})`);
    if (buf.length < STREAM_HEADER_BYTES + length) return needMore(STREAM_HEADER_BYTES + length);
    let plain: Uint8Array;
    try {
      plain = decryptPayload(keyring.getKeys(), buf.subarray(STREAM_HEADER_BYTES, STREAM_HEADER_BYTES + length), buf.subarray(0, STREAM_HEADER_BYTES));
    } catch (e) {
      throw new StreamError((e as Error).message);
    }
    return { done: true, message: parseComplete(plain, maxBytes), consumed: STREAM_HEADER_BYTES + length };
  }
  if (keyring) throw new StreamError('Encryption is configured but remote state is not encrypted');
  if (buf.length > maxBytes) throw new StreamTooLarge(`Remote node state is larger than limit (${buf.length})`);
  try {
    const { message, consumed } = parsePlain(buf, maxBytes);
    return { done: true, message, consumed };
  } catch (e) {
    if (e instanceof NeedMoreBytes) {
      if (e.needed > maxBytes) throw new StreamTooLarge(`Remote node state is larger than limit (${e.needed})`);
      return needMore(Math.max(e.needed, buf.length + 1));
    }
    throw asStreamError(e);
  }
}

/** A stream whose declared or received size is beyond the reader's bound. */
export class StreamTooLarge extends StreamError {}

/** A message whose bytes are all here (decrypted): running out of bytes is a malformed message. */
function parseComplete(buf: Uint8Array, maxBytes: number): StreamMessage {
  try {
    return parsePlain(buf, maxBytes).message;
  } catch (e) {
    throw asStreamError(e);
  }
}

function asStreamError(e: unknown): StreamError {
  if (e instanceof StreamError) return e;
  if (e instanceof NeedMoreBytes) return new StreamError('stream message truncated');
  return new StreamError(describeError(e));
}

function parsePlain(buf: Uint8Array, maxBytes: number): { message: StreamMessage; consumed: number } {
  if (buf.length < 1) throw new NeedMoreBytes(1);
  const reader = new MsgpackReader(buf, 1);
  if (buf[0] === MessageType.compress) {
    const inner = readCompressed(reader, maxBytes);
    return { message: parseComplete(inner, maxBytes), consumed: reader.offset };
  }
  const message = parseBody(buf[0], buf, reader);
  return { message, consumed: reader.offset };
}

function parseBody(type: number, buf: Uint8Array, reader: MsgpackReader): StreamMessage {
  switch (type) {
    case MessageType.pushPull:
      return { kind: 'pushPull', pushPull: readPushPull(reader) };
    case MessageType.user:
      return { kind: 'message', message: { type: 'user', payload: readUserStream(reader) } };
    case MessageType.ping:
    case MessageType.ackResp:
    case MessageType.err: {
      reader.read();
      const message = decodeMessageBody(type, buf.subarray(1, reader.offset));
      if (!message) throw new StreamError(`undecodable message type ${type}`);
      return { kind: 'message', message };
    }
    default:
      return { kind: 'unknown', messageType: type };
  }
}
