// The CLI's HTTP client for the REST API: JSON in and out, the API's error shape turned into ApiError,
// and a connection failure turned into one line that says what to do about it.
import { ApiError, CliError } from './cli-error.ts';
import { readServerSentEvents, type ServerSentEvent } from './sse-reader.ts';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export class ApiClient {
  constructor(
    readonly server: string,
    private readonly apiKey: string | undefined,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const response = await this.send(method, path, options, 'application/json');
    const text = await response.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError(`unexpected answer from ${this.server} (HTTP ${response.status}, not JSON): is it a Caxton node?`);
      }
    }
    if (!response.ok) throw this.explain(toApiError(response.status, body));
    return { status: response.status, body: body as T };
  }

  /** Streams server-sent events until the server ends the stream or `signal` aborts it. */
  events(path: string, options: RequestOptions = {}): AsyncGenerator<ServerSentEvent> {
    return this.eventStream('GET', path, options);
  }

  /** Server-sent events answering any request (e.g. POST /api/v1/messages?stream=true with a body). */
  async *eventStream(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<ServerSentEvent> {
    const response = await this.send(method, path, options, 'text/event-stream');
    if (!response.ok) {
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw this.explain(toApiError(response.status, body));
    }
    if (!response.body) return;
    try {
      yield* readServerSentEvents(response.body as unknown as AsyncIterable<Uint8Array>);
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }

  /** A 401 when we sent no key at all is most often a missing key, not a wrong one: say where keys come from. */
  private explain(error: ApiError): ApiError {
    if (error.status !== 401 || this.apiKey) return error;
    return new ApiError(
      error.status,
      error.code,
      `${error.apiMessage} (no API key found: pass --api-key, set CAXTON_API_KEY, or point --data-dir at the node's data directory)`,
      error.details,
    );
  }

  private async send(method: string, path: string, options: RequestOptions, accept: string): Promise<Response> {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new CliError(`cannot reach the server at ${this.server} (is a node running? start one with: npm start)`);
    }
  }
}

function toApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string') {
    return new ApiError(
      status,
      error.code,
      typeof error.message === 'string' ? error.message : '',
      error.details as Record<string, unknown> | undefined,
    );
  }
  return new ApiError(status, `HTTP_${status}`, 'the server answered without an error body');
}
