// How a message travels in a MESSAGES frame: the one receiver on the peer it is for, then its JSON text,
// both as MessagePack strings. JSON rather than a
// MessagePack map because content is JSON and must arrive exactly as sent: msgpackr renames a `__proto__`
// key and recurses per nesting level (a deeply nested content overflowed its stack), where JSON.parse keeps
// both. And a message an agent sent usually has its text already (wire-text.ts): encoding it is then free.
import { wireTextOf } from '../../agents/wire-text.ts';
import type { AclMessage } from '../../messaging/message.ts';
import { decodeValues, FrameError } from './frames.ts';

/** A message crossing a link, with the receiver on the peer it is for (a message to several receivers crosses once per receiver). */
export interface RoutedMessage {
  message: AclMessage;
  receiver: string;
}

/** Receiver names are at most this long (messages.md: agent names, capability:, client: addresses). */
const MAX_RECEIVER_CHARS = 256;

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

/** The (receiver, message) pairs of a MESSAGES payload, parsed but not yet checked. Throws FrameError on anything else. */
export function decodeAclMessages(payload: Uint8Array): { receiver: string; message: unknown }[] {
  let values: unknown[];
  try {
    values = decodeValues(payload);
  } catch (error) {
    throw new FrameError(`undecodable MESSAGES frame: ${(error as Error).message}`);
  }
  if (values.length % 2 !== 0) throw new FrameError('a MESSAGES frame holds a receiver without its message');
  const messages = new Array<{ receiver: string; message: unknown }>(values.length / 2);
  for (let i = 0; i < values.length; i += 2) {
    const receiver = values[i];
    const text = values[i + 1];
    if (typeof receiver !== 'string' || receiver.length === 0 || receiver.length > MAX_RECEIVER_CHARS) {
      throw new FrameError('a MESSAGES frame names no usable receiver');
    }
    if (typeof text !== 'string') throw new FrameError('a MESSAGES frame holds something that is not a message text');
    try {
      messages[i / 2] = { receiver, message: JSON.parse(text) };
    } catch (error) {
      throw new FrameError(`a message text is not JSON: ${(error as Error).message}`);
    }
  }
  return messages;
}
