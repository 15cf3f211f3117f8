// The state backend contract on a real PostgreSQL (test/helpers/postgres.ts starts one for this file),
// and what PostgreSQL adds: two nodes' backends on one database see one agent's state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { openStateBackend } from '../../src/tools/state/open-state-backend.ts';
import { POSTGRES_STATE_TABLE } from '../../src/tools/state/postgres-state-backend.ts';
import type { StateBackend } from '../../src/tools/state/state-backend.ts';
import { createStateToolServer } from '../../src/tools/state/state-tool.ts';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { stateBackendContract } from './state-backend-contract.ts';

const unavailable = postgresUnavailableReason();
if (unavailable) console.warn(`\n*** SKIPPING the PostgreSQL state backend tests: ${unavailable} ***\n`);

const postgresConfig = (url: string) => ({ state: { ...DEFAULTS.state, backend: 'postgres' as const, postgres_url: url } });

describe.skipIf(unavailable !== null)('PostgreSQL state backend', () => {
  let server: PostgresServer;
  let backend: StateBackend;

  beforeAll(async () => {
    server = await startPostgres();
    backend = await openStateBackend(postgresConfig(server.url), undefined);
  }, 120_000);

  afterAll(async () => {
    await backend?.close();
    await server?.stop();
  });

  stateBackendContract('postgres', { backend: () => backend });

  it('creates its table once even when several nodes open it at the same time', async () => {
    const url = await server.createDatabase('concurrent_open');
    const backends = await Promise.all(Array.from({ length: 4 }, () => openStateBackend(postgresConfig(url), undefined)));
    await backends[0].store('a', 'k', '1');
    expect(await backends[3].retrieve('a', 'k')).toBe('1');
    await Promise.all(backends.map((b) => b.close()));
  });

  it("serves an agent's state written through node A's backend to the same agent on node B, and only to it", async () => {
    const url = await server.createDatabase('two_nodes');
    // Two backends with pools of their own, as two nodes pointing at one PostgreSQL (state.postgres_url).
    const nodeA = createStateToolServer(await openStateBackend(postgresConfig(url), undefined));
    const nodeB = createStateToolServer(await openStateBackend(postgresConfig(url), undefined));
    try {
      await nodeA.call('counter', 'store', { key: 'count', value: { n: 41 } });
      await nodeA.call('counter', 'batch_store', { entries: [{ key: 'log/1', value: 'a' }, { key: 'log/2', value: 'b' }] });
      expect((await nodeB.call('counter', 'retrieve', { key: 'count' })).structuredContent).toEqual({ value: { n: 41 } });
      expect((await nodeB.call('counter', 'list', { prefix: 'log/' })).structuredContent).toEqual({ keys: ['log/1', 'log/2'], truncated: false });
      expect((await nodeB.call('other', 'retrieve', { key: 'count' })).structuredContent).toEqual({ value: null });
      await nodeB.call('counter', 'store', { key: 'count', value: { n: 42 } });
      expect((await nodeA.call('counter', 'retrieve', { key: 'count' })).structuredContent).toEqual({ value: { n: 42 } });
    } finally {
      await nodeA.close();
      await nodeB.close();
    }
  });

  it('sorts keys by code point even in a database whose default collation is a language one (ICU)', async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE icu_default TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`);
      // In this database, plain text sorts 'a' < 'B'; the table's COLLATE "C" keeps code point order.
      const check = new pg.Client({ connectionString: server.url.replace(/\/postgres$/, '/icu_default') });
      await check.connect();
      const { rows } = await check.query(`SELECT 'a' < 'B' AS language_order`);
      await check.end();
      expect(rows[0].language_order).toBe(true);
    } finally {
      await client.end();
    }
    const b = await openStateBackend(postgresConfig(server.url.replace(/\/postgres$/, '/icu_default')), undefined);
    for (const key of ['B', 'a', 'a/x', 'ab', 'A', 'a-b']) await b.store('agent', key, '1');
    expect(await b.list('agent', '', 10)).toEqual(['A', 'B', 'a', 'a-b', 'a/x', 'ab']);
    expect(await b.list('agent', 'a', 10)).toEqual(['a', 'a-b', 'a/x', 'ab']);
    await b.close();
  });

  it('answers a call with UNAVAILABLE when PostgreSQL cannot be reached, and recovers', async () => {
    const url = await server.createDatabase('outage');
    const backend = await openStateBackend(postgresConfig(url), undefined);
    const tool = createStateToolServer(backend);
    // Terminating every connection of the pool stands in for a server restart.
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await tool.call('agent', 'store', { key: 'k', value: 1 });
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'outage' AND pid <> pg_backend_pid()`);
    await admin.end();
    // The pool drops the dead connection and opens a new one: at most one call fails, with a CaxtonError.
    let value: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        value = (await tool.call('agent', 'retrieve', { key: 'k' })).structuredContent;
        break;
      } catch (error) {
        expect((error as { code?: string }).code).toBe('UNAVAILABLE');
      }
    }
    expect(value).toEqual({ value: 1 });
    await tool.close();
    await expect(openStateBackend(postgresConfig(`postgres://caxton@127.0.0.1:1/none`), undefined)).rejects.toThrow(/cannot open the PostgreSQL state database/);
  });

  it('works for a role granted only SELECT, INSERT, UPDATE, DELETE on a table made beforehand', async () => {
    const url = await server.createDatabase('least_privilege');
    const owner = await openStateBackend(postgresConfig(url), undefined);
    await owner.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('CREATE ROLE state_app LOGIN');
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${POSTGRES_STATE_TABLE} TO state_app`);
    await admin.end();
    const app = await openStateBackend(postgresConfig(url.replace('caxton@', 'state_app@')), undefined);
    try {
      await app.batchStore('agent', [{ key: 'k', valueJson: '1' }]);
      expect(await app.retrieve('agent', 'k')).toBe('1');
      expect(await app.delete('agent', 'k')).toBe(true);
    } finally {
      await app.close();
    }
  });

  it(`names its table ${POSTGRES_STATE_TABLE}`, async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const { rows } = await client.query('SELECT to_regclass($1) AS t', [POSTGRES_STATE_TABLE]);
    await client.end();
    expect(rows[0].t).toBe(POSTGRES_STATE_TABLE);
  });
});
