// The console's one way to the node: fetch with the API key as a Bearer token, the API's error shape turned
// into ApiError, and server-sent events read from a fetch body (EventSource cannot send an Authorization
// header, and a key in the URL would end up in logs).

const KEY_STORAGE = 'caxton.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  /** Kept in sessionStorage: gone when the tab closes, never sent anywhere but this node. */
  get key(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set key(value: string | null) {
    if (value === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, value);
  },
};

/** Called when the node answers 401: the key was revoked or is wrong. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(listener: () => void): void {
  onUnauthorized = listener;
}

function headers(extra: Record<string, string> = {}, key = session.key): Record<string, string> {
  return key ? { authorization: `Bearer ${key}`, ...extra } : extra;
}

async function failure(response: Response, sessionKey = true): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || 'request failed';
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    /* not JSON */
  }
  if (response.status === 401 && sessionKey) onUnauthorized();
  return new ApiError(response.status, code, message);
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  key?: string;
  signal?: AbortSignal;
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const extra: Record<string, string> = { accept: 'application/json' };
  let body = options.body;
  if (options.json !== undefined) {
    extra['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { method: options.method ?? 'GET', headers: headers(extra, options.key ?? session.key), body, signal: options.signal });
  // A probe with a key of its own (the login form) is not the session's key failing.
  if (!response.ok) throw await failure(response, options.key === undefined);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export interface ServerEvent {
  event: string;
  id?: string;
  data: unknown;
}

/**
 * Reads server-sent events from `path` until `signal` aborts; reconnects after a dropped stream (the node
 * restarted, a slow tab was dropped as a slow client) with a growing pause, and stops for good on 401/403.
 */
export async function followEvents(path: string, onEvent: (event: ServerEvent) => void, signal: AbortSignal, onStatus?: (connected: boolean) => void): Promise<void> {
  let pauseMs = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
      if (response.status === 401 || response.status === 403) {
        onStatus?.(false);
        await failure(response);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      onStatus?.(true);
      pauseMs = 500;
      await readEvents(response.body, onEvent);
    } catch {
      if (signal.aborted) return;
    }
    onStatus?.(false);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, 10_000);
  }
}

async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: ServerEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
        else if (field === 'id') id = text;
      }
      if (data.length === 0) continue;
      let parsed: unknown = data.join('\n');
      try {
        parsed = JSON.parse(parsed as string);
      } catch {
        /* plain text data */
      }
      onEvent({ event, id, data: parsed });
    }
  }
}
