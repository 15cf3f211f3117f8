// The JSON body parser of the API. Fastify's own buffers the whole body, parses, then checks: a body of
// 200,000 nested arrays (400 KB, under every size limit) then costs ~23 ms of JSON.parse, and even refused
// early a 400 KB string per request is old-generation garbage. Here the body is read chunk by chunk and its
// nesting counted as it arrives; the first bracket past the bound ends the request at once, having kept
// nothing. An honest body costs one scan more than JSON.parse alone.
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { CaxtonError } from '../errors.ts';
import { MAX_CONTENT_DEPTH } from '../messaging/message.ts';

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

/** Parses a whole JSON body text: the depth bound first, then JSON.parse, then the prototype-poisoning keys Fastify refuses. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new CaxtonError('INVALID_ARGUMENT', 'body: empty, but content-type is application/json', { field: 'body' });
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) throw tooDeep();
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

/**
 * Reads a request body stream of at most `limit` bytes and parses it; refuses as soon as the declared length,
 * the bytes read or the nesting pass their bounds. `done` is called once.
 */
export function readJsonBody(payload: Readable, declaredLength: number, limit: number, done: (error: Error | null, value?: unknown) => void): void {
  if (declaredLength > limit) {
    done(tooLarge(limit));
    return;
  }
  const decoder = new StringDecoder('utf8');
  const counter = new NestingCounter(MAX_BODY_DEPTH);
  const parts: string[] = [];
  let size = 0;
  let finished = false;
  const finish = (error: Error | null, value?: unknown): void => {
    if (finished) return;
    finished = true;
    payload.removeListener('data', onData);
    done(error, value);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) return finish(tooLarge(limit));
    const text = decoder.write(chunk);
    if (!counter.push(text)) return finish(tooDeep());
    parts.push(text);
  };
  payload.on('data', onData);
  payload.once('end', () => {
    if (finished) return;
    try {
      parts.push(decoder.end());
      finish(null, parseJsonBody(parts.join('')));
    } catch (error) {
      finish(error as Error);
    }
  });
  payload.once('error', (error) => finish(error));
}

function poisoned(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth < 0) return false;
  if (Array.isArray(value)) return value.some((v) => poisoned(v, depth - 1));
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  const ctor = (value as Record<string, unknown>).constructor;
  if (Object.prototype.hasOwnProperty.call(value, 'constructor') && typeof ctor === 'object' && ctor !== null && 'prototype' in ctor) return true;
  return Object.values(value).some((v) => poisoned(v, depth - 1));
}
