// The built-in `state` tool server (tools.md): store, retrieve, delete, list, exists, batch_store,
// batch_retrieve, every key scoped to the calling agent. Arguments are checked here (a bad one is a tool
// error naming the field, never a throw), values are turned into JSON text and size-checked here, so a
// backend only stores text. The gateway calls it directly; `caxton state serve` serves the same handlers.
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { BuiltinCallResult, BuiltinToolDescription, BuiltinToolServer } from '../builtin-server.ts';
import { BatchTooLarge, type StateBackend } from './state-backend.ts';
import { keySchema, prefixSchema, stateValueJson } from './state-key.ts';
import { STATE_BATCH_MAX_BYTES, STATE_BATCH_MAX_ENTRIES, STATE_LIST_MAX_KEYS, STATE_VALUE_MAX_BYTES } from './state-limits.ts';

export const STATE_SERVER_NAME = 'state';

/** Any JSON value; present (null is a value). Its size is checked once it is JSON text. */
const valueSchema = z.unknown().refine((value) => value !== undefined, { error: 'is required (any JSON value)' });

const ARGUMENTS = {
  store: z.object({ key: keySchema, value: valueSchema }),
  retrieve: z.object({ key: keySchema }),
  delete: z.object({ key: keySchema }),
  list: z.object({
    prefix: prefixSchema.default(''),
    limit: z
      .int({ error: 'expected an integer' })
      .min(1, { error: 'expected at least 1' })
      .max(STATE_LIST_MAX_KEYS, { error: `expected at most ${STATE_LIST_MAX_KEYS}` })
      .optional(),
  }),
  exists: z.object({ key: keySchema }),
  batch_store: z.object({
    entries: z
      .array(z.object({ key: keySchema, value: valueSchema }), { error: 'expected an array of {key, value}' })
      .max(STATE_BATCH_MAX_ENTRIES, { error: `expected at most ${STATE_BATCH_MAX_ENTRIES} entries` }),
  }),
  batch_retrieve: z.object({
    keys: z
      .array(keySchema, { error: 'expected an array of keys' })
      .max(STATE_BATCH_MAX_ENTRIES, { error: `expected at most ${STATE_BATCH_MAX_ENTRIES} keys` }),
  }),
} as const;

export type StateToolName = keyof typeof ARGUMENTS;
export const STATE_TOOL_NAMES = Object.keys(ARGUMENTS) as StateToolName[];

const anyJson = {};
const OUTPUTS: Record<StateToolName, Record<string, unknown>> = {
  store: objectSchema({ ok: { type: 'boolean', const: true } }),
  retrieve: objectSchema({ value: anyJson }),
  delete: objectSchema({ deleted: { type: 'boolean' } }),
  list: objectSchema({ keys: { type: 'array', items: { type: 'string' } }, truncated: { type: 'boolean' } }, ['keys']),
  exists: objectSchema({ exists: { type: 'boolean' } }),
  batch_store: objectSchema({ ok: { type: 'boolean', const: true } }),
  batch_retrieve: objectSchema({ values: { type: 'object', additionalProperties: anyJson } }),
};

const DESCRIPTIONS: Record<StateToolName, string> = {
  store: `Stores a JSON value (up to ${STATE_VALUE_MAX_BYTES} bytes) under a key of the calling agent, replacing any previous value; refused (QUOTA_EXCEEDED) when the agent's keys or bytes would pass its quota.`,
  retrieve: 'Returns the value stored under a key, or null when the key is absent.',
  delete: 'Deletes a key; says whether it existed.',
  list: `Lists the keys starting with prefix, in order, at most limit (default and maximum ${STATE_LIST_MAX_KEYS}); truncated says more match.`,
  exists: 'Says whether a key is present.',
  batch_store: `Stores up to ${STATE_BATCH_MAX_ENTRIES} entries at once: all of them or, on any error (QUOTA_EXCEEDED when the agent's keys or bytes would pass its quota), none.`,
  batch_retrieve: `Returns the values of up to ${STATE_BATCH_MAX_ENTRIES} keys (${STATE_BATCH_MAX_BYTES} bytes of values in all); absent keys are left out.`,
};

function objectSchema(properties: Record<string, unknown>, required = Object.keys(properties)): Record<string, unknown> {
  return { type: 'object', properties, required };
}

function describeTools(): BuiltinToolDescription[] {
  return STATE_TOOL_NAMES.map((name) => {
    const inputSchema = z.toJSONSchema(ARGUMENTS[name], { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete inputSchema.$schema;
    return { name, description: DESCRIPTIONS[name], inputSchema, outputSchema: OUTPUTS[name] };
  });
}

function ok(structuredContent: Record<string, unknown>): BuiltinCallResult {
  return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
}

function toolError(message: string): BuiltinCallResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** A zod failure as one line naming the field: `entries.2.key: expected a string`. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.length ? issue.path.map(String).join('.') : 'arguments';
  return `${field}: ${issue.message}`;
}

class ArgumentError extends Error {}

function toJsonText(value: unknown, field: string): string {
  const text = stateValueJson(value);
  if (typeof text !== 'string') throw new ArgumentError(`${field}: ${text.problem}`);
  return text;
}

function parseStored(text: string): unknown {
  return JSON.parse(text) as unknown;
}

type Handlers = { [T in StateToolName]: (agent: string, args: z.output<(typeof ARGUMENTS)[T]>) => Promise<BuiltinCallResult> };

function handlers(backend: StateBackend): Handlers {
  return {
    async store(agent, { key, value }) {
      await backend.store(agent, key, toJsonText(value, 'value'));
      return ok({ ok: true });
    },
    async retrieve(agent, { key }) {
      const text = await backend.retrieve(agent, key);
      return ok({ value: text === null ? null : parseStored(text) });
    },
    async delete(agent, { key }) {
      return ok({ deleted: await backend.delete(agent, key) });
    },
    async list(agent, { prefix, limit }) {
      const max = limit ?? STATE_LIST_MAX_KEYS;
      const keys = await backend.list(agent, prefix, max + 1);
      const truncated = keys.length > max;
      return ok({ keys: truncated ? keys.slice(0, max) : keys, truncated });
    },
    async exists(agent, { key }) {
      return ok({ exists: await backend.exists(agent, key) });
    },
    async batch_store(agent, { entries }) {
      let total = 0;
      const texts = entries.map(({ key, value }, i) => {
        const valueJson = toJsonText(value, `entries.${i}.value`);
        total += Buffer.byteLength(valueJson);
        return { key, valueJson };
      });
      if (total > STATE_BATCH_MAX_BYTES) {
        throw new ArgumentError(`entries: ${total} bytes of values together, more than the ${STATE_BATCH_MAX_BYTES} allowed in one batch`);
      }
      await backend.batchStore(agent, texts);
      return ok({ ok: true });
    },
    async batch_retrieve(agent, { keys }) {
      let found: Map<string, string>;
      try {
        found = await backend.batchRetrieve(agent, keys, STATE_BATCH_MAX_BYTES);
      } catch (error) {
        if (error instanceof BatchTooLarge) throw new ArgumentError(`keys: ${error.message}; retrieve fewer keys at once`);
        throw error;
      }
      const values: Record<string, unknown> = {};
      // Keys such as "__proto__" must become plain properties, not a prototype change.
      for (const [key, text] of found) Object.defineProperty(values, key, { value: parseStored(text), enumerable: true, writable: true, configurable: true });
      return ok({ values });
    },
  };
}

/** A batch longer than allowed, refused before zod visits each of its (possibly millions of) elements. */
function oversizedBatch(tool: StateToolName, args: unknown): string | null {
  const field = tool === 'batch_store' ? 'entries' : tool === 'batch_retrieve' ? 'keys' : null;
  if (!field || typeof args !== 'object' || args === null) return null;
  const list = (args as Record<string, unknown>)[field];
  return Array.isArray(list) && list.length > STATE_BATCH_MAX_ENTRIES ? `${field}: expected at most ${STATE_BATCH_MAX_ENTRIES} ${field === 'keys' ? 'keys' : 'entries'}` : null;
}

export function createStateToolServer(backend: StateBackend): BuiltinToolServer {
  const described = describeTools();
  const run = handlers(backend);
  return {
    name: STATE_SERVER_NAME,
    tools: () => described,
    async call(agent, tool, args) {
      if (!Object.hasOwn(ARGUMENTS, tool)) return toolError(`unknown tool '${tool}' (the state server has ${STATE_TOOL_NAMES.join(', ')})`);
      if (typeof agent !== 'string' || agent.length === 0) throw new CaxtonError('INVALID_ARGUMENT', 'the calling agent has no name');
      const name = tool as StateToolName;
      const oversized = oversizedBatch(name, args);
      if (oversized) return toolError(oversized);
      const parsed = ARGUMENTS[name].safeParse(args ?? {});
      if (!parsed.success) return toolError(describeIssue(parsed.error));
      try {
        return await (run[name] as (agent: string, args: unknown) => Promise<BuiltinCallResult>)(agent, parsed.data);
      } catch (error) {
        if (error instanceof ArgumentError) return toolError(error.message);
        if (error instanceof CaxtonError) throw error;
        throw new CaxtonError('UNAVAILABLE', `state backend ${backend.kind}: ${(error as Error).message}`);
      }
    },
    close: () => backend.close(),
  };
}
