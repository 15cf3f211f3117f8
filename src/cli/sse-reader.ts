// Parses a text/event-stream body into events (the subset the server writes: id, event, data, comments).
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

export async function* readServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { event: string; data: string[]; id?: string } = { event: 'message', data: [] };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (current.data.length > 0) yield { event: current.event, data: current.data.join('\n'), id: current.id };
        current = { event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') current.event = value;
      else if (field === 'data') current.data.push(value);
      else if (field === 'id') current.id = value;
    }
  }
}
