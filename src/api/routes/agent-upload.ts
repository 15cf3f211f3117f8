// The two forms an agent upload may take: JSON with the module in base64, or multipart with the module
// as a file part and the rest of the spec as a JSON `spec` field. Both end as (spec, module bytes).
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CaxtonError, invalidArgument } from '../../errors.ts';
import { parseOrThrow } from '../validation.ts';

export interface AgentUpload<Spec> {
  spec: Spec;
  module: Uint8Array;
}

/** JSON body: `jsonSchema` includes `module` (base64); the rest is the spec. */
export function uploadFromJson<S extends z.ZodType<{ module: string }>>(
  body: unknown,
  jsonSchema: S,
): AgentUpload<Omit<z.output<S>, 'module'>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument('body', 'body: must be a JSON object');
  }
  const { module, ...spec } = parseOrThrow(jsonSchema, body);
  const bytes = Buffer.from(module, 'base64');
  if (bytes.length === 0) throw invalidArgument('module', 'module: empty');
  return { spec: spec as Omit<z.output<S>, 'module'>, module: bytes };
}

/** Multipart body: a `module` file part and a `spec` field holding JSON validated by `specSchema`. */
export async function uploadFromMultipart<S extends z.ZodType>(
  request: FastifyRequest,
  specSchema: S,
): Promise<AgentUpload<z.output<S>>> {
  let spec: unknown;
  let module: Buffer | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'module') {
          part.file.resume();
          throw invalidArgument(part.fieldname, `${part.fieldname}: unknown file part; send the module as 'module'`);
        }
        module = await part.toBuffer();
      } else if (part.fieldname === 'spec') {
        spec = specOf(part.value, part.mimetype);
      } else if (part.fieldname === 'module') {
        throw invalidArgument('module', 'module: send it as a file part, not a text field');
      } else {
        throw invalidArgument(part.fieldname, `${part.fieldname}: unknown field; expected 'module' (file) and 'spec'`);
      }
    }
  } catch (error) {
    throw multipartRefusal(error);
  }
  if (!module || module.length === 0) throw invalidArgument('module', 'module: missing or empty file part');
  if (spec === undefined) throw invalidArgument('spec', 'spec: missing field (the agent spec as JSON)');
  return { spec: parseOrThrow(specSchema, spec, 'spec'), module };
}

/** The plugin has already parsed a part sent as application/json; any other is JSON in text. */
function specOf(value: unknown, mimetype: string): unknown {
  if (mimetype === 'application/json') return value;
  try {
    return JSON.parse(String(value));
  } catch {
    throw invalidArgument('spec', 'spec: malformed JSON');
  }
}

/**
 * What reading the parts threw, as the client's mistake it is. The multipart parser throws plain errors with no
 * status for a body it cannot read (no boundary, cut short), which would answer 500; its limits (413) and our own
 * refusals pass as they are, and so does anything it marks as the node's fault (5xx).
 */
function multipartRefusal(error: unknown): unknown {
  if (error instanceof CaxtonError) return error;
  const { code, statusCode, message } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  // The plugin parses a part declared application/json itself; `spec` is the only field that may be JSON.
  if (code === 'FST_INVALID_JSON_FIELD_ERROR') return invalidArgument('spec', 'spec: declared application/json but not valid JSON');
  if (typeof statusCode === 'number') return error;
  return invalidArgument('body', `body: not a readable multipart/form-data body (${typeof message === 'string' ? message : 'unreadable'})`);
}
