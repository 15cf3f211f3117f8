// zod is the one source of truth for inputs: handlers parse with it (naming the offending field), and
// the same schema, converted to JSON Schema, documents the route in the OpenAPI document.
import { z } from 'zod';
import { invalidArgument } from '../errors.ts';

/** Parses `value` or throws INVALID_ARGUMENT naming the first offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, whole = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let field = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    field = issue.keys.join(',');
    throw invalidArgument(field, `${field}: unknown field`);
  }
  if (!field) field = whole;
  throw invalidArgument(field, `${field}: ${issue.message}`);
}

/** The OpenAPI 3.0 form of a schema as a client writes it (input side of coercions and defaults). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dropped, ...rest } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/** A query-string integer: query values arrive as strings. */
export function queryInt(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/** A query-string boolean: `true`/`1` or `false`/`0`. */
export const queryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
