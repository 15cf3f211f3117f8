// The line the conversation history stores for a message: JSON on one line, read back with JSON.parse.
import { knownWireTextOf } from '../agents/wire-text.ts';
import type { AclMessage } from '../messaging/message.ts';

/**
 * The message as one line of JSON: the text it was delivered to an agent of this thread as (wire-text.ts),
 * which holds the same value, when there is one; else serialized. Not with a trace_context: tracing may
 * replace it on the message after that text was made. Null when it cannot be serialized (content too deep
 * for JSON.stringify): that message alone is left out of the history.
 */
export function historyTextOf(message: AclMessage): string | null {
  const known = message.trace_context === undefined ? knownWireTextOf(message) : undefined;
  // An agent's own text may hold newlines between tokens; the history keeps one message per line (JSON
  // escapes a newline inside a string, so a serialized message never holds one).
  if (known !== undefined && known.indexOf('\n') === -1) return known;
  try {
    return JSON.stringify(message);
  } catch {
    return null;
  }
}
