// The state tool's boundary: whatever arguments an agent sends (any JSON, any tool name), a call ends in a
// CallToolResult (an isError one for bad arguments) and never throws; what is stored reads back the same.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/state/database.ts';
import { createSqliteStateBackend } from '../../src/tools/state/sqlite-state-backend.ts';
import { createStateToolServer, STATE_TOOL_NAMES } from '../../src/tools/state/state-tool.ts';
import { tempDir } from '../state/helpers.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const dir = tempDir();
const database = openDatabase(dir.path);
const server = createStateToolServer(createSqliteStateBackend(database.db));
afterAll(() => {
  database.close();
  dir.remove();
});

const key = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', ''));
const json = fc.jsonValue({ maxDepth: 4 });
const anything = fc.oneof(json, fc.anything({ maxDepth: 3 }), key);
const args = fc.oneof(
  fc.record({ key: anything, value: anything, prefix: anything, limit: anything, keys: anything, entries: anything }, { requiredKeys: [] }),
  fc.record({ entries: fc.array(fc.record({ key: anything, value: anything }, { requiredKeys: [] }), { maxLength: 5 }) }),
  fc.record({ keys: fc.array(anything, { maxLength: 5 }) }),
  anything,
);
const tool = fc.oneof(fc.constantFrom(...STATE_TOOL_NAMES), fc.string({ maxLength: 12 }));

describe('state tool: hostile arguments', () => {
  it(
    'answers every call with a CallToolResult and never throws',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('a', 'b'), tool, args, async (agent, name, input) => {
          const result = await server.call(agent, name, input as Record<string, unknown>);
          expect(Array.isArray(result.content)).toBe(true);
          expect(typeof result.content[0].text).toBe('string');
          if (!result.isError) expect(JSON.parse(result.content[0].text)).toEqual(result.structuredContent);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs(),
  );

  it(
    'reads back any JSON value stored under any accepted key',
    async () => {
      await fc.assert(
        fc.asyncProperty(key, json, async (k, value) => {
          const stored = await server.call('roundtrip', 'store', { key: k, value });
          if (stored.isError) return; // a refused key (empty, NUL, lone surrogate): refused, not stored
          const read = await server.call('roundtrip', 'retrieve', { key: k });
          expect(read.structuredContent).toEqual({ value: JSON.parse(JSON.stringify(value)) });
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs(),
  );
});
