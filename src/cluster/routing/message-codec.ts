// How a message travels in a MESSAGES frame: the one receiver on the peer it is for, then its JSON text,
// both as MessagePack strings; to a peer whose hello lists the `origin` link feature, a message may be
// preceded by an envelope, a MessagePack map `{o: node}`: the node where the API client that sent it waits
// (a draining node forwarding a client's message names the client's node, so the reply goes there directly
// and not back through a node about to stop). A peer without the feature is never sent an envelope.
// JSON rather than a
// MessagePack map because content is JSON and must arrive exactly as sent: msgpackr renames a `__proto__`
// key and recurses per nesting level (a deeply nested content overflowed its stack), where JSON.parse keeps
// both. And a message an agent sent usually has its text already (wire-text.ts): encoding it is then free.
import { wireTextOf } from '../../messaging/wire-text.ts';
import type { AclMessage } from '../../messaging/message.ts';
import { decodeValues, encodeValue, FrameError } from './frames.ts';

/** A message crossing a link, with the receiver on the peer it is for (a message to several receivers crosses once per receiver). */
export interface RoutedMessage {
  message: AclMessage;
  receiver: string;
}

/** The link feature (hello `f`) of a peer that reads origin envelopes. */
export const ORIGIN_FEATURE = 'origin';

/** Node ids are at most this long in an envelope (a longer one is refused as malformed). */
const MAX_ORIGIN_CHARS = 256;

/** Receiver names are at most this long (messages.md: agent names, capability:, client: addresses). */
const MAX_RECEIVER_CHARS = 256;

/** The envelope written before a message for a peer that reads them: `{o: origin}`. */
export function encodeOriginEnvelope(origin: string): Buffer {
  return encodeValue({ o: origin });
}

/** Receiver then text, each a MessagePack str (str8/16/32 header + UTF-8): twice as fast here as msgpackr's pack of a long string. */
export function encodeAclMessage(message: AclMessage, receiver: string): Buffer {
  return Buffer.concat([encodeString(receiver), encodeString(wireTextOf(message, false))]);
}

function encodeString(text: string): Buffer {
  const bytes = Buffer.byteLength(text, 'utf8');
  const head = bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
  const out = Buffer.allocUnsafe(head + bytes);
  if (head === 2) {
    out[0] = 0xd9;
    out[1] = bytes;
  } else if (head === 3) {
    out[0] = 0xda;
    out.writeUInt16BE(bytes, 1);
  } else {
    out[0] = 0xdb;
    out.writeUInt32BE(bytes, 1);
  }
  out.write(text, head, 'utf8');
  return out;
}

/** The MessagePack values of one message in a MESSAGES payload at most: its envelope, receiver and text. */
export const VALUES_PER_MESSAGE = 3;

/**
 * The (receiver, message) pairs of a MESSAGES payload, each with the origin of the envelope before it if any,
 * parsed but not yet checked. Throws FrameError on anything else, and past `maxMessages` messages (decoding
 * stops there).
 */
export function decodeAclMessages(payload: Uint8Array, maxMessages = Infinity): { receiver: string; message: unknown; origin?: string }[] {
  let values: unknown[];
  try {
    values = decodeValues(payload, maxMessages * VALUES_PER_MESSAGE);
  } catch (error) {
    throw new FrameError(`undecodable MESSAGES frame: ${(error as Error).message}`);
  }
  const messages: { receiver: string; message: unknown; origin?: string }[] = [];
  let origin: string | undefined;
  for (let i = 0; i < values.length; i++) {
    const head = values[i];
    if (typeof head === 'object' && head !== null && !Array.isArray(head) && !Buffer.isBuffer(head) && !(head instanceof Uint8Array)) {
      if (origin !== undefined) throw new FrameError('a MESSAGES frame holds two envelopes in a row');
      const o = (head as Record<string, unknown>).o;
      if (typeof o !== 'string' || o.length === 0 || o.length > MAX_ORIGIN_CHARS) throw new FrameError('a message envelope names no usable origin');
      origin = o;
      continue;
    }
    const receiver = head;
    if (i + 1 >= values.length) throw new FrameError('a MESSAGES frame holds a receiver without its message');
    const text = values[++i];
    if (typeof receiver !== 'string' || receiver.length === 0 || receiver.length > MAX_RECEIVER_CHARS) {
      throw new FrameError('a MESSAGES frame names no usable receiver');
    }
    if (typeof text !== 'string') throw new FrameError('a MESSAGES frame holds something that is not a message text');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      throw new FrameError(`a message text is not JSON: ${(error as Error).message}`);
    }
    if (messages.length >= maxMessages) throw new FrameError(`a MESSAGES frame holds more than ${maxMessages} messages`);
    messages.push(origin === undefined ? { receiver, message } : { receiver, message, origin });
    origin = undefined;
  }
  if (origin !== undefined) throw new FrameError('a MESSAGES frame ends with an envelope and no message');
  return messages;
}
