// How a message travels in a MESSAGES frame: its JSON text as a MessagePack string. JSON rather than a
// MessagePack map because content is JSON and must arrive exactly as sent: msgpackr renames a `__proto__`
// key and recurses per nesting level (a deeply nested content overflowed its stack), where JSON.parse keeps
// both. And a message an agent sent usually has its text already (wire-text.ts): encoding it is then free.
import { wireTextOf } from '../../agents/wire-text.ts';
import type { AclMessage } from '../../messaging/message.ts';
import { decodeValues, encodeValue, FrameError } from './frames.ts';

export function encodeAclMessage(message: AclMessage): Buffer {
  return encodeValue(wireTextOf(message, false));
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
