// Parses a text/event-stream body into events (the subset the server writes: id, event, data, comments).
import { CliError } from './cli-error.ts';

export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * The most characters one event may take, lines and data together: a reply event holds a message of at most
 * 1 MiB (messages.max_bytes), some 6 MiB once JSON escapes every character; past this the stream is not a
 * Caxton node's, and reading on would grow the CLI's memory until it died with V8's trace.
 */
export const MAX_EVENT_CHARS = 32 * 1024 * 1024;

export async function* readServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { event: string; data: string[]; id?: string } = { event: 'message', data: [] };
  let eventChars = 0;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    if (buffer.length + eventChars > MAX_EVENT_CHARS) {
      throw new CliError(`unexpected answer from the server: an event longer than ${MAX_EVENT_CHARS / 1024 / 1024} Mi characters`);
    }
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (current.data.length > 0) yield { event: current.event, data: current.data.join('\n'), id: current.id };
        current = { event: 'message', data: [] };
        eventChars = 0;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') current.event = value;
      else if (field === 'data') {
        current.data.push(value);
        eventChars += value.length;
      } else if (field === 'id') current.id = value;
    }
  }
}

/** An event's data as the JSON object the server writes; anything else is one clear error naming the event. */
export function eventObject(event: ServerSentEvent): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(event.data);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`unexpected answer from the server: the data of a "${event.event}" event is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
