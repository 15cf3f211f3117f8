// What a state key and a state value may be, checked the same way by the tool, `caxton state put` and the
// importers, so that every path into a backend accepts exactly the same data.
import { z } from 'zod';
import { STATE_KEY_MAX_BYTES, STATE_VALUE_MAX_BYTES } from './state-limits.ts';

/** Lone surrogates cannot be stored as UTF-8 text: two different keys would collapse into one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const keySchema = z
  .string({ error: 'expected a string' })
  .min(1, { error: 'expected a non-empty string' })
  .refine((key) => Buffer.byteLength(key) <= STATE_KEY_MAX_BYTES, { error: `expected at most ${STATE_KEY_MAX_BYTES} bytes` })
  // PostgreSQL text cannot hold NUL: refused on every backend so that both accept the same keys.
  .refine((key) => !key.includes('\u0000'), { error: 'must not contain NUL characters' })
  .refine((key) => !LONE_SURROGATE.test(key), { error: 'must be valid Unicode (no lone surrogates)' });

export const prefixSchema = z
  .string({ error: 'expected a string' })
  .refine((prefix) => Buffer.byteLength(prefix) <= STATE_KEY_MAX_BYTES, { error: `expected at most ${STATE_KEY_MAX_BYTES} bytes` })
  .refine((prefix) => !prefix.includes('\u0000') && !LONE_SURROGATE.test(prefix), { error: 'must be valid Unicode without NUL' });

/** Why `key` cannot be a state key, or null when it can. */
export function stateKeyProblem(key: unknown): string | null {
  const parsed = keySchema.safeParse(key);
  return parsed.success ? null : parsed.error.issues[0].message;
}

/** The JSON text of `value` when it is JSON of at most 1 MiB, else what is wrong with it. */
export function stateValueJson(value: unknown): string | { problem: string } {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return { problem: `not representable as JSON (${(error as Error).message})` };
  }
  // JSON.stringify answers undefined for undefined, functions and symbols, which never come out of JSON.
  if (text === undefined) return { problem: 'not representable as JSON' };
  const bytes = Buffer.byteLength(text);
  if (bytes > STATE_VALUE_MAX_BYTES) return { problem: `${bytes} bytes of JSON, more than the ${STATE_VALUE_MAX_BYTES} allowed` };
  return text;
}
