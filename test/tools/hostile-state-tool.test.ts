// A hostile agent against the built-in state tool on SQLite: what one call can make the node hold.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/state/database.ts';
import type { BuiltinToolServer } from '../../src/tools/builtin-server.ts';
import type { StateBackend } from '../../src/tools/state/state-backend.ts';
import { importEntries } from '../../src/tools/state/state-import.ts';
import { createSqliteStateBackend } from '../../src/tools/state/sqlite-state-backend.ts';
import { STATE_BATCH_MAX_BYTES, STATE_VALUE_MAX_BYTES } from '../../src/tools/state/state-limits.ts';
import { serveStateHttp } from '../../src/tools/state/state-mcp-server.ts';
import { createStateToolServer } from '../../src/tools/state/state-tool.ts';
import { tempDir } from '../state/helpers.ts';
import { closesWithin } from '../helpers/socket-close.ts';

const dir = tempDir();
let database: Database;
let backend: StateBackend;
let tool: BuiltinToolServer;

beforeAll(() => {
  database = openDatabase(dir.path);
  backend = createSqliteStateBackend(database.db);
  tool = createStateToolServer(backend);
});
afterAll(() => {
  database?.close();
  dir.remove();
});

describe('batch_retrieve of values larger together than a batch may be', () => {
  it('is refused as a tool error naming keys, having read little more than the batch bound', async () => {
    // 20 values of ~1 MiB: each allowed, 20 MiB together (the batch bound is 16 MiB). Stored in two batches.
    const value = 'v'.repeat(STATE_VALUE_MAX_BYTES - 16);
    const keys = Array.from({ length: 20 }, (_, i) => `big-${i}`);
    for (const half of [keys.slice(0, 10), keys.slice(10)]) {
      const stored = await tool.call('hoarder', 'batch_store', { entries: half.map((key) => ({ key, value })) });
      expect(stored.isError, stored.content[0].text).toBeFalsy();
    }
    const result = await tool.call('hoarder', 'batch_retrieve', { keys });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(new RegExp(`^keys: .*${STATE_BATCH_MAX_BYTES} bytes allowed in one batch`));
    // Within the bound, the same keys are served.
    const some = await tool.call('hoarder', 'batch_retrieve', { keys: keys.slice(0, 3) });
    expect(some.isError).toBeFalsy();
    expect(Object.keys(some.structuredContent!.values as object)).toEqual(keys.slice(0, 3));

    // An import over those keys compares them key by key past the batch bound, and still counts right.
    const json = JSON.stringify(value);
    async function* items() {
      for (const key of keys) yield { agent: 'hoarder', key, valueJson: key === 'big-7' ? '"changed"' : json };
    }
    expect(await importEntries(backend, items())).toMatchObject({ read: 20, written: 1, unchanged: 19, skipped: 0 });
    expect(await backend.retrieve('hoarder', 'big-7')).toBe('"changed"');
  });
});

describe('`state serve --http` sent a JSON-RPC batch', () => {
  it('refuses it with 400 naming the body, and still serves one message per request', async () => {
    const http = await serveStateHttp(tool, 'hoarder', { host: '127.0.0.1', port: 0 });
    try {
      const post = (body: unknown) =>
        fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(body) });
      // 20 calls of ~16 MiB answers each, for ~4 KB sent: before, an answer too long to serialise and no reply.
      const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'batch_retrieve', arguments: { keys: ['big-0', 'big-1'] } } });
      const refused = await post(Array.from({ length: 20 }, (_, i) => call(i)));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^body: one JSON-RPC message per request/);
      const one = await post(call(1));
      expect(one.status).toBe(200);
      const answer = (await one.json()) as { result: { structuredContent: { values: Record<string, string> } } };
      expect(Object.keys(answer.result.structuredContent.values)).toEqual(['big-0', 'big-1']);
    } finally {
      await http.close();
    }
  });
});

describe('`state serve --http` sent nothing', () => {
  it('closes a connection that sends no request, as it closes its other slots: 256 silent ones held it for ever', async () => {
    const http = await serveStateHttp(tool, 'quiet', { host: '127.0.0.1', port: 0, firstRequestTimeoutMs: 300 });
    const sockets: Socket[] = [];
    try {
      const { port } = new URL(http.url);
      for (let i = 0; i < 5; i++) sockets.push(connect(Number(port), '127.0.0.1').on('error', () => {}));
      expect(await Promise.all(sockets.map((socket) => closesWithin(socket, 15_000)))).toEqual([true, true, true, true, true]);
      // Still serving.
      const answer = await fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
      expect(answer.status).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await http.close();
    }
  });
});
