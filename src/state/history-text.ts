// The line the conversation history stores for a message: JSON on one line, read back with JSON.parse.
import { jsonTextOf } from '../messaging/wire-text.ts';
import type { AclMessage } from '../messaging/message.ts';

/**
 * The message as one line of JSON: the text it was delivered as when that is known (wire-text.ts's
 * jsonTextOf), else serialized. Null when it cannot be serialized (content too deep for JSON.stringify): that
 * message alone is left out of the history.
 */
export function historyTextOf(message: AclMessage): string | null {
  try {
    const text = jsonTextOf(message);
    // An agent's own text may hold newlines between tokens; the history keeps one message per line (JSON
    // escapes a newline inside a string, so a serialized message never holds one).
    return text.indexOf('\n') === -1 ? text : JSON.stringify(message);
  } catch {
    return null;
  }
}
