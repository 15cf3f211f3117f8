// The JSON body parser of the API. Fastify's own parses first and checks after; a body of 200,000 nested
// arrays (400 KB, under every size limit) then holds the thread ~23 ms in JSON.parse alone, so a few such
// clients stall every other request. Here the nesting is counted on the raw text first, stopping at the
// first bracket past the bound: a hostile body costs a few hundred character reads, an honest one a scan.
import { CaxtonError } from '../errors.ts';
import { MAX_CONTENT_DEPTH } from '../messaging/message.ts';

/** Deepest nesting a body may have: a message's content (MAX_CONTENT_DEPTH) inside the message and a little slack. */
export const MAX_BODY_DEPTH = MAX_CONTENT_DEPTH + 4;

/** True when `text` nests objects and arrays deeper than `limit` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Parses a JSON body: the depth bound first, then JSON.parse, then the prototype-poisoning keys Fastify refuses. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new CaxtonError('INVALID_ARGUMENT', 'body: empty, but content-type is application/json', { field: 'body' });
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) {
    throw new CaxtonError('INVALID_ARGUMENT', `body: nested deeper than ${MAX_BODY_DEPTH} levels of objects and arrays`, { field: 'body' });
  }
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

function poisoned(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth < 0) return false;
  if (Array.isArray(value)) return value.some((v) => poisoned(v, depth - 1));
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  const ctor = (value as Record<string, unknown>).constructor;
  if (Object.prototype.hasOwnProperty.call(value, 'constructor') && typeof ctor === 'object' && ctor !== null && 'prototype' in ctor) return true;
  return Object.values(value).some((v) => poisoned(v, depth - 1));
}
