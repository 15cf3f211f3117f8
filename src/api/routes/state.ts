// Agents' state tool values for operators (`caxton state ...`): read, change, export and import them while
// the node runs. Admin only: this reaches every agent's state, past the grants that bound agents.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { StateBackend } from '../../tools/state/state-backend.ts';
import { importEntries } from '../../tools/state/state-import.ts';
import { exportJsonLines, itemsFromJsonLines } from '../../tools/state/state-json-lines.ts';
import { keySchema, prefixSchema, stateValueJson } from '../../tools/state/state-key.ts';
import { STATE_LIST_MAX_KEYS } from '../../tools/state/state-limits.ts';
import type { StateServices } from '../state-services.ts';
import { jsonSchemaOf, parseOrThrow, queryInt } from '../validation.ts';

export interface StateRouteOptions {
  /** Absent when the node wires no state backend: the routes answer 503 rather than vanish. */
  state?: StateServices;
}

/** Agent names as the state tool scopes keys (any name an agent or `state serve --agent` may have). */
const agentParam = z.string().min(1, { error: 'expected an agent name' }).max(255).refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL' });
const agentParams = z.strictObject({ agent: agentParam });
const keyQuery = z.strictObject({ key: keySchema });
const listQuery = z.strictObject({ prefix: prefixSchema.optional(), limit: queryInt(1, STATE_LIST_MAX_KEYS).optional() });
const putBody = z.strictObject({ value: z.unknown().refine((v) => v !== undefined, { error: 'is required (any JSON value)' }) });
const exportQuery = z.strictObject({ agent: agentParam.optional() });
const importQuery = z.strictObject({ agent: agentParam.optional() });

const NDJSON = 'application/x-ndjson';

export const stateRoutes: FastifyPluginAsync<StateRouteOptions> = async (app, { state }) => {
  const backend = async (): Promise<StateBackend> => {
    if (!state) throw new CaxtonError('UNAVAILABLE', 'this node has no state backend wired to its API');
    try {
      return await state.backend();
    } catch (error) {
      throw new CaxtonError('UNAVAILABLE', `the state backend cannot be opened: ${(error as Error).message}`);
    }
  };
  const absent = (agent: string, key: string) => new CaxtonError('NOT_FOUND', `agent ${agent} has no key ${JSON.stringify(key)}`, { agent, key });

  // JSON lines for import, as text: parsed line by line by the importer (this plugin only).
  app.addContentTypeParser(NDJSON, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.get(
    '/api/v1/state/:agent/keys',
    {
      config: { permission: 'state:read' },
      schema: {
        summary: "An agent's state keys in order, starting with prefix (admin)",
        tags: ['state'],
        params: jsonSchemaOf(agentParams),
        querystring: jsonSchemaOf(listQuery),
        response: { 200: { type: 'object', properties: { keys: { type: 'array', items: { type: 'string' } }, truncated: { type: 'boolean' } } } },
      },
    },
    async (request) => {
      const { agent } = parseOrThrow(agentParams, request.params, 'params');
      const { prefix, limit } = parseOrThrow(listQuery, request.query, 'query');
      const max = limit ?? STATE_LIST_MAX_KEYS;
      const keys = await (await backend()).list(agent, prefix ?? '', max + 1);
      return { keys: keys.slice(0, max), truncated: keys.length > max };
    },
  );

  app.get(
    '/api/v1/state/:agent/value',
    {
      config: { permission: 'state:read' },
      schema: {
        summary: "The JSON value of one of an agent's keys (admin); 404 when absent",
        tags: ['state'],
        params: jsonSchemaOf(agentParams),
        querystring: jsonSchemaOf(keyQuery),
      },
    },
    async (request, reply) => {
      const { agent } = parseOrThrow(agentParams, request.params, 'params');
      const { key } = parseOrThrow(keyQuery, request.query, 'query');
      const text = await (await backend()).retrieve(agent, key);
      if (text === null) throw absent(agent, key);
      // The stored text is JSON already: sent as is.
      return reply.type('application/json').send(`{"value":${text}}`);
    },
  );

  app.put(
    '/api/v1/state/:agent/value',
    {
      config: { permission: 'state:write' },
      schema: {
        summary: "Store a JSON value (up to 1 MiB) under one of an agent's keys (admin)",
        tags: ['state'],
        params: jsonSchemaOf(agentParams),
        querystring: jsonSchemaOf(keyQuery),
        body: jsonSchemaOf(putBody),
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (request) => {
      const { agent } = parseOrThrow(agentParams, request.params, 'params');
      const { key } = parseOrThrow(keyQuery, request.query, 'query');
      const { value } = parseOrThrow(putBody, request.body);
      const json = stateValueJson(value);
      if (typeof json !== 'string') throw new CaxtonError('INVALID_ARGUMENT', `value: ${json.problem}`, { field: 'value' });
      await (await backend()).store(agent, key, json);
      return { ok: true };
    },
  );

  app.delete(
    '/api/v1/state/:agent/value',
    {
      config: { permission: 'state:write' },
      schema: {
        summary: "Delete one of an agent's keys (admin); 404 when absent",
        tags: ['state'],
        params: jsonSchemaOf(agentParams),
        querystring: jsonSchemaOf(keyQuery),
        response: { 200: { type: 'object', properties: { deleted: { type: 'boolean' } } } },
      },
    },
    async (request) => {
      const { agent } = parseOrThrow(agentParams, request.params, 'params');
      const { key } = parseOrThrow(keyQuery, request.query, 'query');
      if (!(await (await backend()).delete(agent, key))) throw absent(agent, key);
      return { deleted: true };
    },
  );

  app.get(
    '/api/v1/state/export',
    {
      config: { permission: 'state:read' },
      schema: {
        summary: 'Every state value (or one agent\'s) as JSON lines {"agent", "key", "value"}, in (agent, key) order (admin)',
        tags: ['state'],
        querystring: jsonSchemaOf(exportQuery),
      },
    },
    async (request, reply) => {
      const { agent } = parseOrThrow(exportQuery, request.query, 'query');
      const source = await backend();
      // Streamed page by page (entries() reads 500-1000 rows at a time): an export is never held whole.
      return reply.type(NDJSON).send(Readable.from(exportJsonLines(source, agent)));
    },
  );

  app.post(
    '/api/v1/state/import',
    {
      config: { permission: 'state:write' },
      schema: {
        summary: 'Store JSON lines as `export` writes them (application/x-ndjson); unchanged values are not written (admin)',
        tags: ['state'],
        querystring: jsonSchemaOf(importQuery),
        response: {
          200: {
            type: 'object',
            properties: {
              read: { type: 'integer' },
              written: { type: 'integer' },
              unchanged: { type: 'integer' },
              skipped: { type: 'integer' },
              problems: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    async (request) => {
      const { agent } = parseOrThrow(importQuery, request.query, 'query');
      if (typeof request.body !== 'string') throw new CaxtonError('INVALID_ARGUMENT', `body: expected ${NDJSON}`, { field: 'body' });
      const lines = request.body.split('\n');
      return importEntries(await backend(), itemsFromJsonLines(toAsync(lines), agent));
    },
  );
};

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
