// The JSON body parser of the API. Fastify's own buffers the whole body, parses, then checks: a body of
// 200,000 nested arrays (400 KB, under every size limit) then costs ~23 ms of JSON.parse, and even refused
// early a 400 KB string per request is old-generation garbage. Here the body is read chunk by chunk and its
// nesting counted as it arrives; the first bracket past the bound ends the request at once, having kept
// nothing. An honest body costs one scan more than JSON.parse alone.
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { CaxtonError } from '../errors.ts';
import { MAX_CONTENT_DEPTH } from '../messaging/message.ts';
import type { BodyBudget } from './body-budget.ts';

/** Deepest nesting a body may have: a message's content (MAX_CONTENT_DEPTH) inside the message and a little slack. */
export const MAX_BODY_DEPTH = MAX_CONTENT_DEPTH + 4;

/** Counts object/array nesting over text that arrives in pieces (brackets inside strings do not count). */
export class NestingCounter {
  #depth = 0;
  #inString = false;
  #escaped = false;
  constructor(private readonly limit: number) {}

  /** False once the text so far nests deeper than the limit. */
  push(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === 0x5c) this.#escaped = true;
        else if (c === 0x22) this.#inString = false;
      } else if (c === 0x22) {
        this.#inString = true;
      } else if (c === 0x5b || c === 0x7b) {
        if (++this.#depth > this.limit) return false;
      } else if (c === 0x5d || c === 0x7d) {
        this.#depth--;
      }
    }
    return true;
  }
}

/** True when `text` nests objects and arrays deeper than `limit`. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  return !new NestingCounter(limit).push(text);
}

/** An error that also asks for the connection to be closed: the rest of the body is not worth reading. */
function refusal(error: CaxtonError): CaxtonError {
  return Object.assign(error, { closeConnection: true });
}

const tooDeep = (): CaxtonError =>
  refusal(new CaxtonError('INVALID_ARGUMENT', `body: nested deeper than ${MAX_BODY_DEPTH} levels of objects and arrays`, { field: 'body' }));
const tooLarge = (limit: number): CaxtonError =>
  refusal(new CaxtonError('TOO_LARGE', `body: larger than the limit of ${limit} bytes`, { field: 'body', limit }));
/** A bound of the node that is full: no fault of the client's, nor a failure to log (`expected`, see server.ts). */
const tooBusy = (budget: BodyBudget): CaxtonError =>
  Object.assign(
    refusal(
      new CaxtonError('UNAVAILABLE', `body: ${budget.maxBytes} bytes of request bodies are being read on this node (api.max_body_bytes_in_flight); retry shortly`, {
        field: 'body',
        retry_after_seconds: 1,
      }),
    ),
    { expected: true },
  );

/** Parses a whole JSON body text: the depth bound first, then JSON.parse, then the prototype-poisoning keys Fastify refuses. */
export function parseJsonBody(text: string): unknown {
  if (text.length > 0 && nestsDeeperThan(text, MAX_BODY_DEPTH)) throw tooDeep();
  return parseCountedJson(text);
}

/** parseJsonBody for text whose nesting was already counted as it arrived. */
function parseCountedJson(text: string): unknown {
  if (text.length === 0) throw new CaxtonError('INVALID_ARGUMENT', 'body: empty, but content-type is application/json', { field: 'body' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CaxtonError('INVALID_ARGUMENT', 'body: malformed JSON; send one JSON object', { field: 'body' });
  }
  if ((text.includes('__proto__') || text.includes('constructor')) && poisoned(value, MAX_BODY_DEPTH)) {
    throw new CaxtonError('INVALID_ARGUMENT', 'body: a "__proto__" or "constructor.prototype" key is not allowed', { field: 'body' });
  }
  return value;
}

type Done = (error: Error | null, value?: unknown) => void;

const READER = Symbol('caxton.jsonBodyReader');
const BODY_TEXT = Symbol('caxton.jsonBodyText');

type ReadPayload = Readable & { [READER]?: BodyReader | undefined; [BODY_TEXT]?: string };

/**
 * The text a JSON body was parsed from (request.raw), when this parser read it: a message sent through the API
 * is delivered as that text with the host's fields spliced in, instead of being serialized again.
 */
export function bodyTextOf(raw: object): string | undefined {
  return (raw as ReadPayload)[BODY_TEXT];
}

/**
 * The state of one body being read. Its stream listeners are three functions shared by every request (the
 * stream is their `this`), not closures made per request: this runs for every message sent.
 */
class BodyReader {
  readonly decoder = new StringDecoder('utf8');
  readonly counter = new NestingCounter(MAX_BODY_DEPTH);
  readonly parts: string[] = [];
  /** Bytes read so far, all taken from the budget. */
  size = 0;
  finished = false;
  constructor(
    readonly payload: ReadPayload,
    readonly limit: number,
    readonly budget: BodyBudget | undefined,
    readonly done: Done,
  ) {}

  finish(error: Error | null, value?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.budget?.give(this.size);
    this.payload[READER] = undefined;
    // 'end', 'error' and 'close' stay attached (once, and inert now): a late stream error must still find a listener.
    this.payload.removeListener('data', onBodyData);
    this.done(error, value);
  }
}

function onBodyData(this: ReadPayload, chunk: Buffer): void {
  const reader = this[READER];
  if (reader === undefined) return;
  if (reader.size + chunk.length > reader.limit) return reader.finish(tooLarge(reader.limit));
  if (reader.budget !== undefined && !reader.budget.take(chunk.length)) return reader.finish(tooBusy(reader.budget));
  reader.size += chunk.length;
  const text = reader.decoder.write(chunk);
  if (!reader.counter.push(text)) return reader.finish(tooDeep());
  reader.parts.push(text);
}

function onBodyEnd(this: ReadPayload): void {
  const reader = this[READER];
  if (reader === undefined) return;
  try {
    const rest = reader.decoder.end();
    const parts = reader.parts;
    // Almost every body arrives in one chunk: no join.
    const text = parts.length === 1 && rest === '' ? parts[0] : (parts.push(rest), parts.join(''));
    const value = parseCountedJson(text);
    this[BODY_TEXT] = text;
    reader.finish(null, value);
  } catch (error) {
    reader.finish(error as Error);
  }
}

function onBodyError(this: ReadPayload, error: Error): void {
  this[READER]?.finish(error);
}

/** Closed before its end (the client left, the request timed out) and without an error: what it took goes back. */
function onBodyClose(this: ReadPayload): void {
  this[READER]?.finish(Object.assign(new Error('the connection closed before the whole body arrived'), { code: 'ECONNRESET' }));
}

/**
 * Reads a request body stream of at most `limit` bytes and parses it; refuses as soon as the declared length,
 * the bytes read, the nesting or the bytes of every body being read (`budget`) pass their bounds. `done` is
 * called once.
 */
export function readJsonBody(payload: Readable, declaredLength: number, limit: number, done: Done, budget?: BodyBudget): void {
  if (declaredLength > limit) {
    done(tooLarge(limit));
    return;
  }
  const stream = payload as ReadPayload;
  stream[READER] = new BodyReader(stream, limit, budget, done);
  stream.on('data', onBodyData);
  stream.once('end', onBodyEnd);
  stream.once('error', onBodyError);
  // `on`, not `once`: inert after the body is done, and no wrapper made per request on the send path.
  stream.on('close', onBodyClose);
}

function poisoned(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth < 0) return false;
  if (Array.isArray(value)) return value.some((v) => poisoned(v, depth - 1));
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  const ctor = (value as Record<string, unknown>).constructor;
  if (Object.prototype.hasOwnProperty.call(value, 'constructor') && typeof ctor === 'object' && ctor !== null && 'prototype' in ctor) return true;
  return Object.values(value).some((v) => poisoned(v, depth - 1));
}
