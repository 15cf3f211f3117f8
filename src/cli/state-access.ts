// How `caxton state get|put|list|delete|export|import` reach agents' values: through the node's API (the
// default, like every other command: the node may be running, anywhere), or directly on the backend with
// --offline (the local data dir's SQLite), --config (the node's caxton.yaml) or --postgres-url.
import type { Command } from 'commander';
import type { ImportCounts, ImportItem } from '../tools/state/state-import.ts';
import { importEntries, importInto } from '../tools/state/state-import.ts';
import { exportJsonLines } from '../tools/state/state-json-lines.ts';
import { ApiError } from './cli-error.ts';
import type { ApiClient } from './client.ts';
import { sessionFor, type CliContext } from './context.ts';
import { openCliStateBackend, type StateCommandFlags } from './state-backend-session.ts';

export interface StateAccess {
  /** Where the values are, for messages. */
  readonly where: string;
  get(agent: string, key: string): Promise<string | null>;
  put(agent: string, key: string, valueJson: string): Promise<void>;
  list(agent: string, prefix: string, limit: number): Promise<string[]>;
  delete(agent: string, key: string): Promise<boolean>;
  export(agent: string | undefined): AsyncIterable<string>;
  import(items: AsyncIterable<ImportItem>): Promise<ImportCounts>;
  close(): Promise<void>;
}

/** Whether the flags name a backend to open here rather than the node's API. */
export function isDirect(flags: StateCommandFlags & { offline?: boolean }): boolean {
  return Boolean(flags.offline || flags.config || flags.postgresUrl);
}

export async function withStateAccess<T>(command: Command, context: CliContext, work: (access: StateAccess, flags: StateCommandFlags) => Promise<T>): Promise<T> {
  const flags = command.optsWithGlobals<StateCommandFlags & { offline?: boolean }>();
  const access = isDirect(flags) ? await directAccess(flags, context) : apiAccess((await sessionFor(command, context)).client);
  try {
    return await work(access, flags);
  } finally {
    await access.close();
  }
}

async function directAccess(flags: StateCommandFlags, context: CliContext): Promise<StateAccess> {
  const { backend, where, close } = await openCliStateBackend(flags, context.env);
  return {
    where,
    get: (agent, key) => backend.retrieve(agent, key),
    put: (agent, key, valueJson) => backend.store(agent, key, valueJson),
    list: (agent, prefix, limit) => backend.list(agent, prefix, limit),
    delete: (agent, key) => backend.delete(agent, key),
    export: (agent) => exportJsonLines(backend, agent),
    import: (items) => importEntries(backend, items),
    close,
  };
}

/** Bytes of keys and values posted per import request (besides the importer's bound on entries). */
const IMPORT_REQUEST_MAX_BYTES = 8 * 1024 * 1024;

function apiAccess(client: ApiClient): StateAccess {
  const base = (agent: string) => `/api/v1/state/${encodeURIComponent(agent)}`;
  const absentAsNull = async <T>(work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  };
  return {
    where: client.server,
    async get(agent, key) {
      const answer = await absentAsNull(() => client.request<{ value: unknown }>('GET', `${base(agent)}/value`, { query: { key } }));
      return answer === null ? null : JSON.stringify(answer.body.value);
    },
    async put(agent, key, valueJson) {
      await client.request('PUT', `${base(agent)}/value`, { query: { key }, text: { content: `{"value":${valueJson}}`, type: 'application/json' } });
    },
    async list(agent, prefix, limit) {
      const { body } = await client.request<{ keys: string[] }>('GET', `${base(agent)}/keys`, { query: { prefix: prefix || undefined, limit } });
      return body.keys;
    },
    async delete(agent, key) {
      return (await absentAsNull(() => client.request('DELETE', `${base(agent)}/value`, { query: { key } }))) !== null;
    },
    export: (agent) => client.textStream('GET', '/api/v1/state/export', { query: { agent } }),
    // Checked and de-duplicated here too, so that a key repeated across requests is still imported once; the
    // node compares each request's entries with what it stores and writes only what differs.
    import: (items) =>
      importInto(
        {
          maxBatchBytes: IMPORT_REQUEST_MAX_BYTES,
          async write(batch) {
            const lines = batch.map(({ agent, key, valueJson }) => `{"agent":${JSON.stringify(agent)},"key":${JSON.stringify(key)},"value":${valueJson}}`);
            const { body } = await client.request<ImportCounts>('POST', '/api/v1/state/import', { text: { content: lines.join('\n'), type: 'application/x-ndjson' } });
            return body;
          },
        },
        items,
      ),
    close: async () => {},
  };
}
