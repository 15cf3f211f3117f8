// The per-agent state quota (state.max_keys_per_agent, state.max_bytes_per_agent) on the node's SQLite:
// the configuration reaches the backend, a runaway batch_store loop is stopped at the quota (it once grew
// caxton.db by 67 MB/s with nothing refusing it), an existing database is counted by the migration, imports
// pass the quota, and `caxton state serve` answers the code. Both backends' contract: state-backend-contract.ts.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { openDatabase } from '../../src/state/database.ts';
import { MIGRATIONS } from '../../src/state/migrations.ts';
import { openStateBackend } from '../../src/tools/state/open-state-backend.ts';
import { importEntries, type ImportItem } from '../../src/tools/state/state-import.ts';
import { createStateToolServer } from '../../src/tools/state/state-tool.ts';
import { tempDir } from '../state/helpers.ts';

const CAXTON = fileURLToPath(new URL('../../bin/caxton.mjs', import.meta.url));
const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});
function freshDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.path;
}

describe('state quota configuration', () => {
  it('defaults to 100,000 keys and 256 MiB per agent, takes 0 for no limit and refuses a negative', () => {
    const config = loadConfig({ env: {} });
    expect(config.state.max_keys_per_agent).toBe(100_000);
    expect(config.state.max_bytes_per_agent).toBe(256 * 1024 * 1024);
    expect(loadConfig({ env: { CAXTON_STATE_MAX_KEYS_PER_AGENT: '0', CAXTON_STATE_MAX_BYTES_PER_AGENT: '0' } }).state).toMatchObject({
      max_keys_per_agent: 0,
      max_bytes_per_agent: 0,
    });
    expect(() => loadConfig({ env: { CAXTON_STATE_MAX_BYTES_PER_AGENT: '-1' } })).toThrow(/^state\.max_bytes_per_agent: expected a non-negative integer/);
  });
});

describe('state quota on the node SQLite', () => {
  it('stops an agent looping batch_store at state.max_bytes_per_agent, with QUOTA_EXCEEDED, writing nothing of the refused batch', async () => {
    const database = openDatabase(freshDir());
    const quotaBytes = 4 * 1024 * 1024;
    const config = loadConfig({ env: { CAXTON_STATE_MAX_BYTES_PER_AGENT: String(quotaBytes) } });
    const backend = await openStateBackend(config, database.db);
    const tool = createStateToolServer(backend);
    try {
      const value = 'v'.repeat(10_000);
      let batches = 0;
      let refusal: unknown = null;
      // What the finding's agent did: batch after batch of new keys, until something says no.
      while (batches < 100) {
        const entries = Array.from({ length: 100 }, (_, i) => ({ key: `k${batches}-${i}`, value }));
        try {
          await tool.call('runaway', 'batch_store', { entries });
        } catch (error) {
          refusal = error;
          break;
        }
        batches++;
      }
      expect(batches).toBe(4); // 4 × 100 × ~10 KB fit in 4 MiB; the fifth batch does not.
      expect(refusal).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { agent: 'runaway', quota: 'state.max_bytes_per_agent', limit: quotaBytes, keys: 400 } });
      expect((refusal as Error).message).toMatch(/^agent "runaway" would keep \d+ bytes of state, more than state\.max_bytes_per_agent \(4194304\): it keeps 400 keys, \d+ bytes/);
      // Nothing of the refused batch, and the table holds what the usage says.
      expect((await tool.call('runaway', 'exists', { key: 'k4-0' })).structuredContent).toEqual({ exists: false });
      const stored = database.db.prepare("SELECT count(*) AS keys, sum(octet_length(key) + octet_length(value)) AS bytes FROM agent_state WHERE agent = 'runaway'").get();
      expect(stored).toEqual(await backend.usage('runaway'));
      expect((stored as { bytes: number }).bytes).toBeLessThanOrEqual(quotaBytes);
      // Other agents are not held back by this one's quota.
      expect((await tool.call('other', 'batch_store', { entries: [{ key: 'k', value }] })).structuredContent).toEqual({ ok: true });
    } finally {
      await backend.close();
      database.close();
    }
  });

  it('stops new keys at state.max_keys_per_agent through the configuration', async () => {
    const database = openDatabase(freshDir());
    const backend = await openStateBackend(loadConfig({ env: { CAXTON_STATE_MAX_KEYS_PER_AGENT: '10' } }), database.db);
    const tool = createStateToolServer(backend);
    try {
      await tool.call('a', 'batch_store', { entries: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i })) });
      await expect(tool.call('a', 'store', { key: 'k10', value: 10 })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'state.max_keys_per_agent', limit: 10, keys: 10 } });
      expect((await tool.call('a', 'store', { key: 'k9', value: 'overwrite' })).structuredContent).toEqual({ ok: true });
      expect(await backend.usage('a')).toMatchObject({ keys: 10 });
    } finally {
      await backend.close();
      database.close();
    }
  });

  it('counts the rows a database already holds once, when migration 4 runs', async () => {
    const dir = freshDir();
    const before = openDatabase(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 3) });
    expect(before.schemaVersion).toBe(3);
    const insert = before.db.prepare('INSERT INTO agent_state (agent, key, value) VALUES (?, ?, ?)');
    for (let i = 0; i < 250; i++) insert.run('old', `k${i}`, JSON.stringify({ i, text: 'é'.repeat(i) }));
    insert.run('other', 'ключ', '"значение"');
    before.close();

    const database = openDatabase(dir);
    const backend = await openStateBackend(DEFAULTS, database.db);
    try {
      let bytes = 0;
      for (let i = 0; i < 250; i++) bytes += Buffer.byteLength(`k${i}`) + Buffer.byteLength(JSON.stringify({ i, text: 'é'.repeat(i) }));
      expect(await backend.usage('old')).toEqual({ keys: 250, bytes });
      expect(await backend.usage('other')).toEqual({ keys: 1, bytes: Buffer.byteLength('ключ') + Buffer.byteLength('"значение"') });
      // And from there on, writes and deletes keep it.
      await backend.store('old', 'k0', '0');
      expect(await backend.delete('old', 'k1')).toBe(true);
      const stored = database.db.prepare("SELECT count(*) AS keys, sum(octet_length(key) + octet_length(value)) AS bytes FROM agent_state WHERE agent = 'old'").get();
      expect(await backend.usage('old')).toEqual(stored);
    } finally {
      await backend.close();
      database.close();
    }
  });

  it('lets an operator import past the quota, and counts what it wrote', async () => {
    const database = openDatabase(freshDir());
    const backend = await openStateBackend(loadConfig({ env: { CAXTON_STATE_MAX_KEYS_PER_AGENT: '5' } }), database.db);
    try {
      async function* items(): AsyncGenerator<ImportItem> {
        for (let i = 0; i < 20; i++) yield { agent: 'restored', key: `k${i}`, valueJson: String(i) };
      }
      expect(await importEntries(backend, items())).toMatchObject({ read: 20, written: 20, skipped: 0 });
      expect(await backend.usage('restored')).toMatchObject({ keys: 20 });
      await expect(backend.store('restored', 'new', '1')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    } finally {
      await backend.close();
      database.close();
    }
  });

  it('`caxton state serve` applies the configured quota and answers its code first', async () => {
    const dir = freshDir();
    openDatabase(dir).close();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CAXTON, '--data-dir', dir, 'state', 'serve', '--stdio', '--agent', 'served'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CAXTON_STATE_MAX_KEYS_PER_AGENT: '1' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.callTool({ name: 'store', arguments: { key: 'a', value: 1 } })).structuredContent).toEqual({ ok: true });
      const refused = await client.callTool({ name: 'store', arguments: { key: 'b', value: 2 } });
      expect(refused.isError).toBe(true);
      expect((refused.content as Array<{ text: string }>)[0].text).toMatch(/^QUOTA_EXCEEDED: agent "served" would keep 2 keys of state, more than state\.max_keys_per_agent \(1\)/);
    } finally {
      await client.close();
    }
  }, 30_000);
});
