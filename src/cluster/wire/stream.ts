// Framing of one message on a TCP stream, as memberlist's rawSendMsgStream/readStream: the message, maybe
// wrapped in a compress message, maybe then encrypted as [10][length u32 BE][encrypted payload] with the
// 5 header bytes as additional data. Streams carry no length otherwise: the reader parses as bytes come
// and says when it needs more.
import { MessageType, type PacketMessage, type PushPull } from '../membership/messages.ts';
import { decodeMessageBody } from './codec.ts';
import type { Keyring } from './keyring.ts';
import { compressMessage, LzwOutputTooLarge, readCompressed } from './lzw.ts';
import { MsgpackError, MsgpackReader, NeedMoreBytes } from './msgpack.ts';
import { inspectItem, msgpackItem as item } from './msgpack-item.ts';
import { DEFAULT_MAX_PUSH_PULL_NODES, MAX_PUSH_STATE_BYTES, readPushPull, readPushPullHeader, readUserStream, readUserStreamHeader } from './pushpull.ts';
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

export interface StreamParseOptions {
  /** Node states a push-pull may carry; more is refused from its header. */
  maxNodes?: number;
  /** Largest decompressed message (at most maxBytes): a stream reader passes what its budget can still grant. */
  maxInflatedBytes?: number;
  /** What earlier parses of the same stream checked; pass the same one to every parse of one stream. */
  scan?: StreamScan;
}

export interface StreamLimits {
  maxBytes: number;
  maxNodes: number;
  maxInflatedBytes: number;
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
export function parseStream(buf: Uint8Array, keyring: Keyring | undefined, maxBytes: number = MAX_PUSH_STATE_BYTES, options: StreamParseOptions = {}): StreamParse {
  const limits: StreamLimits = {
    maxBytes,
    maxNodes: options.maxNodes ?? DEFAULT_MAX_PUSH_PULL_NODES,
    maxInflatedBytes: Math.min(maxBytes, options.maxInflatedBytes ?? maxBytes),
  };
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
    return { done: true, message: parseComplete(plain, limits, true), consumed: STREAM_HEADER_BYTES + length };
  }
  if (keyring) throw new StreamError('Encryption is configured but remote state is not encrypted');
  if (buf.length > maxBytes) throw new StreamTooLarge(`Remote node state is larger than limit (${buf.length})`);
  let end: number;
  try {
    end = (options.scan ?? new StreamScan()).messageEnd(buf, limits);
  } catch (e) {
    if (e instanceof NeedMoreBytes) {
      if (e.needed > maxBytes) throw new StreamTooLarge(`Remote node state is larger than limit (${e.needed})`);
      return needMore(Math.max(e.needed, buf.length + 1));
    }
    throw asStreamError(e);
  }
  return { done: true, message: decodeScanned(buf.subarray(0, end), limits, true), consumed: end };
}

/** A stream whose declared or received size is beyond the reader's bound. */
export class StreamTooLarge extends StreamError {}

/** A message whose bytes are all here (decrypted, decompressed): running out of bytes is a malformed message. */
function parseComplete(buf: Uint8Array, limits: StreamLimits, mayCompress: boolean): StreamMessage {
  // memberlist decompresses a stream once; a compress message inside is a type it does not handle.
  if (!mayCompress && buf[0] === MessageType.compress) return { kind: 'unknown', messageType: buf[0] };
  let end: number;
  try {
    end = new StreamScan().messageEnd(buf, limits);
  } catch (e) {
    throw asStreamError(e);
  }
  return decodeScanned(buf.subarray(0, end), limits, mayCompress);
}

function asStreamError(e: unknown): StreamError {
  if (e instanceof StreamError) return e;
  if (e instanceof NeedMoreBytes) return new StreamError('stream message truncated');
  if (e instanceof LzwOutputTooLarge) return new StreamTooLarge(`Remote node state is larger than limit (${e.message})`);
  return new StreamError(describeError(e));
}

/** Decodes a message StreamScan has passed (so decoding allocates in proportion to what it keeps). */
function decodeScanned(buf: Uint8Array, limits: StreamLimits, mayCompress: boolean): StreamMessage {
  try {
    const reader = new MsgpackReader(buf, 1);
    if (buf[0] === MessageType.compress) return parseComplete(readCompressed(reader, limits.maxInflatedBytes), limits, false);
    return parseBody(buf[0], buf, reader, limits);
  } catch (e) {
    throw asStreamError(e);
  }
}

function parseBody(type: number, buf: Uint8Array, reader: MsgpackReader, limits: StreamLimits): StreamMessage {
  switch (type) {
    case MessageType.pushPull:
      return { kind: 'pushPull', pushPull: readPushPull(reader, limits.maxNodes) };
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

/** Fields of a struct: memberlist's largest on a stream (pushNodeState) has 7, the rest is room for new ones. */
const MAX_STRUCT_FIELDS = 32;
/** A []byte field some encoder writes as an array of ints (go-msgpack writes raw bytes): Meta holds <= 512. */
const MAX_FIELD_ARRAY = 1024;

/**
 * Walks a stream's first message item by item without decoding it, and remembers how far it got: a message
 * arriving in chunks costs time linear in its size. (A push-pull's node list has no length to wait for, and
 * parsing it from the start again on every chunk was quadratic.) It also holds every struct to memberlist's
 * shape, a map of at most MAX_STRUCT_FIELDS fields whose values are scalars, strings or short arrays of
 * scalars, so that decoding afterwards never builds more objects than it keeps fields.
 */
export class StreamScan {
  private inspected = 0;
  private at = 1;
  /** Structs still to open: the header or body, then a push-pull's node states. -1 before the type is seen. */
  private structs = -1;
  /** The first struct is a header telling what follows it. */
  private header: 'pushPull' | 'user' | undefined;
  /** Keys and values left in the open struct, and elements left in an array inside it. */
  private fields = 0;
  private elements = 0;
  /** Raw bytes after the last struct. */
  private tail = 0;

  /** Items inspected, an incomplete one again on each attempt: linear in the message however it is chunked. */
  get inspections(): number {
    return this.inspected;
  }

  /** Where the message ends once all of it is in `buf`; until then NeedMoreBytes with what it needs. */
  messageEnd(buf: Uint8Array, limits: StreamLimits): number {
    if (this.structs < 0) this.layout(buf[0]);
    for (;;) {
      while (this.fields > 0 || this.elements > 0) this.field(buf);
      if (this.structs === 0 && this.header) this.readHeader(buf, limits);
      if (this.structs === 0) break;
      this.openStruct(buf);
    }
    const end = this.at + this.tail;
    if (end > buf.length) throw new NeedMoreBytes(end);
    return end;
  }

  private layout(type: number): void {
    switch (type) {
      case MessageType.pushPull:
      case MessageType.user:
        this.header = type === MessageType.pushPull ? 'pushPull' : 'user';
        this.structs = 1;
        return;
      case MessageType.compress:
      case MessageType.ping:
      case MessageType.ackResp:
      case MessageType.err:
        this.structs = 1;
        return;
      default:
        this.structs = 0;
    }
  }

  private readHeader(buf: Uint8Array, limits: StreamLimits): void {
    const reader = new MsgpackReader(buf.subarray(0, this.at), 1);
    if (this.header === 'pushPull') {
      const header = readPushPullHeader(reader, limits.maxNodes);
      this.structs = header.nodes;
      this.tail = header.userStateLen;
    } else {
      this.tail = readUserStreamHeader(reader);
    }
    this.header = undefined;
    if (this.at + this.tail > limits.maxBytes) throw new StreamTooLarge(`Remote node state is larger than limit (${this.at + this.tail})`);
  }

  private openStruct(buf: Uint8Array): void {
    const size = this.inspect(buf);
    if (!item.map) throw new MsgpackError('msgpack: a struct is not a map');
    if (item.entries > MAX_STRUCT_FIELDS) throw new MsgpackError(`msgpack: a struct of ${item.entries} fields`);
    this.fields = 2 * item.entries;
    this.structs--;
    this.at += size;
  }

  private field(buf: Uint8Array): void {
    const size = this.inspect(buf);
    if (this.at + size > buf.length) throw new NeedMoreBytes(this.at + size);
    if (item.entries >= 0) {
      if (item.map || this.elements > 0) throw new MsgpackError('msgpack: a struct field nests containers');
      if (item.entries > MAX_FIELD_ARRAY) throw new MsgpackError(`msgpack: a struct field of ${item.entries} elements`);
      this.fields--;
      this.elements = item.entries;
    } else if (this.elements > 0) {
      this.elements--;
    } else {
      this.fields--;
    }
    this.at += size;
  }

  private inspect(buf: Uint8Array): number {
    this.inspected++;
    return inspectItem(buf, this.at);
  }
}
