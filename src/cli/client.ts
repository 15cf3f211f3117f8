// The CLI's HTTP client for the REST API: JSON in and out, the API's error shape turned into ApiError,
// and a connection failure turned into one line that says what to do about it.
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { checkAnswer, type AnswerShape } from './answer-shape.ts';
import { ApiError, CliError, UnreachableError } from './cli-error.ts';
import { readServerSentEvents, type ServerSentEvent } from './sse-reader.ts';

export interface RequestOptions {
  body?: unknown;
  /** A body of text sent as is with this content type (JSON lines), instead of `body` as JSON. */
  text?: { content: string; type: string };
  /** Told of the request body's bytes as they are handed to the connection (a large upload's progress). */
  onUploadProgress?: (sent: number, total: number) => void;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** The fields the command reads from a successful answer, checked before it is handed back (answer-shape.ts). */
  expect?: AnswerShape;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** PEM bytes for an https server: a CA to trust, and a client certificate with its key (mTLS). */
export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export class ApiClient {
  constructor(
    readonly server: string,
    private readonly apiKey: string | undefined,
    private readonly tls?: ClientTls,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const response = await this.send(method, path, options, 'application/json');
    const text = await bodyText(response, this.server);
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError(`unexpected answer from ${this.server} (HTTP ${response.status}, not JSON): is it a Caxton node?`);
      }
    }
    if (!response.ok) throw this.explain(toApiError(response.status, body));
    if (options.expect) checkAnswer(body, options.expect, this.server, `${method} ${path}`);
    return { status: response.status, body: body as T };
  }

  /** The text of a streamed answer (JSON lines), chunk by chunk as it arrives. */
  async *textStream(method: string, path: string, options: RequestOptions = {}, accept = 'application/x-ndjson'): AsyncGenerator<string> {
    const response = await this.send(method, path, options, accept);
    if (!response.ok) throw await this.failureOf(response);
    if (!response.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) yield decoder.decode(chunk, { stream: true });
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  /** A binary answer (a backup) as a fetch Response to stream from; an error answer throws as request() does. */
  async download(path: string, options: RequestOptions = {}): Promise<Response> {
    const response = await this.send('GET', path, options, 'application/octet-stream, application/json');
    if (response.ok) return response;
    throw await this.failureOf(response);
  }

  /** The error an answer that is not ok stands for: its `{"error": ...}` body when it has one. */
  private async failureOf(response: Response): Promise<Error> {
    const text = await bodyText(response, this.server);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return this.explain(toApiError(response.status, body));
  }

  /** Streams server-sent events until the server ends the stream or `signal` aborts it. */
  events(path: string, options: RequestOptions = {}): AsyncGenerator<ServerSentEvent> {
    return this.eventStream('GET', path, options);
  }

  /** Server-sent events answering any request (e.g. POST /api/v1/messages?stream=true with a body). */
  async *eventStream(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<ServerSentEvent> {
    const response = await this.send(method, path, options, 'text/event-stream');
    if (!response.ok) throw await this.failureOf(response);
    if (!response.body) return;
    try {
      yield* readServerSentEvents(response.body as unknown as AsyncIterable<Uint8Array>);
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }

  /** The answer's body as a byte stream (a JSON-lines export); an error answer throws as request() does. */
  async stream(path: string, options: RequestOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.send('GET', path, options, 'application/x-ndjson');
    if (!response.ok) throw await this.failureOf(response);
    return (response.body ?? Readable.from([])) as unknown as AsyncIterable<Uint8Array>;
  }

  /** A 401 when we sent no key at all is most often a missing key, not a wrong one: say where keys come from. */
  private explain(error: ApiError): ApiError {
    if (error.status !== 401 || this.apiKey || this.tls?.cert) return error;
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
    if (options.text !== undefined) headers['content-type'] = options.text.type;
    const body = options.text !== undefined ? options.text.content : options.body === undefined ? undefined : JSON.stringify(options.body);
    try {
      // Node 20's fetch takes no CA or client certificate without the undici package: node:https does.
      if (this.tls && url.protocol === 'https:') return await httpsFetch(url, { method, headers, body, signal: options.signal }, this.tls);
      if (body !== undefined && options.onUploadProgress) {
        const bytes = Buffer.from(body, 'utf8');
        headers['content-length'] = String(bytes.length);
        return await fetch(url, { method, headers, body: chunked(bytes, options.onUploadProgress), signal: options.signal, duplex: 'half' } as RequestInit);
      }
      return await fetch(url, { method, headers, body, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
      if (code && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|EPROTO/.test(code)) {
        throw new CliError(`TLS with ${this.server} failed (${code}): pass the CA that signed its certificate with --cacert`);
      }
      throw new UnreachableError(`cannot reach the server at ${this.server} (is a node running? start one with: npm start)`);
    }
  }
}

/** UPLOAD_CHUNK_BYTES at a time, reporting each as it is pulled by the connection. */
const UPLOAD_CHUNK_BYTES = 256 * 1024;

function chunked(bytes: Buffer, onProgress: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, offset + UPLOAD_CHUNK_BYTES);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      onProgress(offset, bytes.length);
    },
  });
}

/** The answer's text; a connection that breaks while it is read is one clear line, not fetch's "terminated". */
async function bodyText(response: Response, server: string): Promise<string> {
  try {
    return await response.text();
  } catch {
    throw new UnreachableError(`the connection to ${server} broke while its answer (HTTP ${response.status}) was read`);
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

/** One request over node:https with the given CA and client certificate, answered as a fetch Response. */
function httpsFetch(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
  tls: ClientTls,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method, headers: init.headers, ca: tls.ca, cert: tls.cert, key: tls.key, signal: init.signal }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const status = res.statusCode ?? 502;
      const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
