// The JSON text of a message: what an agent receives, and what the conversation history, a peer and an API
// client are given. Serializing the stamped message is the largest cost of a local hop, so it is done at most
// once per message and, for a message an agent sent, usually not at all: the agent's own text is kept and the
// host's fields are spliced in before its closing brace.
//
// The text is remembered in a private field attached to the message object itself: invisible to
// Object.keys, spread, JSON.stringify, msgpack and test equality, so a copy made with `{...message}` (and
// then changed) never carries a stale text. The field is attached with the constructor-return idiom, which
// costs about one property store (a WeakMap or Object.defineProperty cost several times more here).
import type { AclMessage, MessageInput } from './message.ts';
import { MAX_CONTENT_DEPTH, nestedDeeperThan } from './message.ts';

/** A message the host cannot turn into text (content nested too deep for the serializer): never delivered. */
export class WireTextError extends Error {
  readonly field = 'content';
  constructor() {
    super(`content: nested deeper than ${MAX_CONTENT_DEPTH} levels of objects and arrays`);
    this.name = 'WireTextError';
  }
}

class ReturnsTarget {
  constructor(target: object) {
    return target;
  }
}

class WireText extends ReturnsTarget {
  #text: string | undefined;
  /** Its UTF-8 length when known without asking (an ASCII splice), else -1. */
  #bytes: number;

  private constructor(message: AclMessage, text: string, bytes: number) {
    super(message);
    this.#text = text;
    this.#bytes = bytes;
  }

  static attach(message: AclMessage, text: string, bytes: number): void {
    new WireText(message, text, bytes);
  }

  static textOf(message: AclMessage): string | undefined {
    return #text in message ? (message as unknown as WireText).#text : undefined;
  }

  static bytesOf(message: AclMessage): number {
    return #bytes in message ? (message as unknown as WireText).#bytes : -1;
  }

  static forget(message: AclMessage): void {
    if (!(#text in message)) return;
    (message as unknown as WireText).#text = undefined;
    (message as unknown as WireText).#bytes = -1;
  }
}

/**
 * The text to deliver. `shared` (a message with several receivers) keeps a freshly serialized text for the
 * next receiver (and the conversation history, see knownWireTextOf); for a single receiver the store is not
 * worth it.
 */
export function wireTextOf(message: AclMessage, shared: boolean): string {
  const cached = WireText.textOf(message);
  if (cached !== undefined) return cached;
  // Every entry bounds the depth (parseMessage); this is the last guard for a message made some other way,
  // so that a stack overflow never escapes as anything but a refusal the sender is told about.
  if (nestedDeeperThan(message.content, MAX_CONTENT_DEPTH)) throw new WireTextError();
  let text: string;
  try {
    text = JSON.stringify(message);
  } catch {
    throw new WireTextError();
  }
  // For one receiver not kept: attaching costs more (~1.8 µs measured on the send path) than the conversation
  // history's own JSON.stringify of the message saves.
  if (shared) WireText.attach(message, text, -1);
  return text;
}

/**
 * A field of `message` changed after its text was kept (the route span's trace_context replacing the one an
 * agent's send carried): the text is made again from the message on delivery.
 */
export function forgetWireText(message: AclMessage): void {
  WireText.forget(message);
}

/** The text the message is delivered as, when it is known already (an agent's spliced send, a shared text); never serializes. */
export function knownWireTextOf(message: AclMessage): string | undefined {
  return WireText.textOf(message);
}

/**
 * The message a known wire text holds (what another thread sent instead of the message object), with that
 * text remembered: delivering it, or storing it in the history, serializes nothing again. `bytes` as
 * wireByteLengthOf gave it on the sending side.
 */
export function messageOfWireText(text: string, bytes: number): AclMessage {
  const message = JSON.parse(text) as AclMessage;
  WireText.attach(message, text, bytes);
  return message;
}

/**
 * The known text of a message that may stand in for it outside the routing (another thread, the history, a
 * reply body): not with a trace_context, which tracing may replace on the message after the text was made.
 */
export function settledWireTextOf(message: AclMessage): string | undefined {
  return message.trace_context === undefined ? WireText.textOf(message) : undefined;
}

/**
 * The message as JSON: its settled wire text when there is one (an agent's spliced send, a client's spliced
 * body), else serialized. Throws as JSON.stringify does.
 */
export function jsonTextOf(message: AclMessage): string {
  return settledWireTextOf(message) ?? JSON.stringify(message);
}

/** The UTF-8 length of wireTextOf(message) when it is known already, else -1. */
export function wireByteLengthOf(message: AclMessage): number {
  return WireText.bytesOf(message);
}

/**
 * Where the host's fields can be spliced into `text`, the JSON the agent sent, parsed (and validated) as
 * `parsed`, before the host stamps it; -1 when they cannot. Splicing must not repeat a key nor change what
 * the agent wrote, so it needs: no `sender` or `message_id` in the text (the host overwrites those; every
 * top-level key of the text is a key of `parsed`), and as many top-level keys in the text as `parsed` has
 * (a repeated key collapses into one when parsed). The answer is the index of the closing brace.
 */
export function spliceIndex(parsed: MessageInput, text: string): number {
  if (parsed.sender !== undefined || parsed.message_id !== undefined) return -1;
  // Without a backslash no string holds a quote, so the scan below can skip strings with indexOf.
  if (text.indexOf('\\') !== -1) return -1;
  let keys = 0;
  for (const _ in parsed) keys++;
  return closingBrace(text, keys);
}

/**
 * The index of the brace that closes `text`, a JSON object with no backslash, when the object has `keys`
 * top-level keys; else -1. Found by the scan that counts the keys: a lastIndexOf after it was ~0.7% of a hop.
 */
function closingBrace(text: string, keys: number): number {
  let depth = 0;
  let found = 0;
  let keyNext = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      if (keyNext) {
        found++;
        keyNext = false;
      }
      i = text.indexOf('"', i + 1);
      if (i === -1) return -1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth === 1) keyNext = true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (--depth === 0) return found === keys ? i : -1;
    } else if (c === 0x2c /* , */ && depth === 1) {
      keyNext = true;
    }
  }
  return -1;
}

/**
 * Remembers the text of a stamped agent send: the agent's text up to its closing brace, then `hostFields`
 * (`,"sender":…,"message_id":…` and `,"conversation_id":…` if the host named the conversation), then the
 * brace. `ascii`: both parts are ASCII, so the UTF-8 length is the length.
 */
export function rememberSpliced(message: AclMessage, text: string, closeIndex: number, hostFields: string, ascii: boolean): void {
  WireText.attach(message, `${text.slice(0, closeIndex)}${hostFields}}`, ascii ? closeIndex + hostFields.length + 1 : -1);
}

/**
 * rememberSpliced for a message a client sent through the API: `text` is the body it was parsed from (as
 * `parsed`), and the message was stamped with sender, message_id and, when it opens its conversation
 * (`opens`), conversation_id = message_id. False, with nothing kept, when splicing would not be exact.
 */
export function rememberClientText(message: AclMessage, parsed: MessageInput, text: string, opens: boolean): boolean {
  const close = spliceIndex(parsed, text);
  if (close === -1) return false;
  const id = message.message_id;
  const hostFields = `,"sender":${JSON.stringify(message.sender)},"message_id":"${id}"${opens ? `,"conversation_id":"${id}"` : ''}`;
  rememberSpliced(message, text, close, hostFields, false);
  return true;
}
