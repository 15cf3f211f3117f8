// How a message travels in a MESSAGES frame: its JSON text as a MessagePack string. JSON rather than a
// MessagePack map because content is JSON and must arrive exactly as sent: msgpackr renames a `__proto__`
// key and recurses per nesting level (a deeply nested content overflowed its stack), where JSON.parse keeps
// both. And a message an agent sent usually has its text already (wire-text.ts): encoding it is then free.
import { wireTextOf } from '../../agents/wire-text.ts';
import type { AclMessage } from '../../messaging/message.ts';
import { decodeValues, FrameError } from './frames.ts';

/** The text as a MessagePack str (str8/16/32 header + UTF-8): twice as fast here as msgpackr's pack of a long string. */
export function encodeAclMessage(message: AclMessage): Buffer {
  const text = wireTextOf(message, false);
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

/** The messages of a MESSAGES payload, parsed but not yet checked. Throws FrameError on anything else. */
export function decodeAclMessages(payload: Uint8Array): unknown[] {
  let values: unknown[];
  try {
    values = decodeValues(payload);
  } catch (error) {
    throw new FrameError(`undecodable MESSAGES frame: ${(error as Error).message}`);
  }
  const messages = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    const text = values[i];
    if (typeof text !== 'string') throw new FrameError('a MESSAGES frame holds something that is not a message text');
    try {
      messages[i] = JSON.parse(text);
    } catch (error) {
      throw new FrameError(`a message text is not JSON: ${(error as Error).message}`);
    }
  }
  return messages;
}
