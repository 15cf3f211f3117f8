// The state backend contract on a real PostgreSQL (test/helpers/postgres.ts starts one for this file),
// and what PostgreSQL adds: two nodes' backends on one database see one agent's state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { openStateBackend } from '../../src/tools/state/open-state-backend.ts';
import { openPostgresStateBackend, POSTGRES_STATE_TABLE, POSTGRES_USAGE_TABLE } from '../../src/tools/state/postgres-state-backend.ts';
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

  stateBackendContract('postgres', {
    backend: () => backend,
    backendWithQuota: (quota) => openPostgresStateBackend({ url: server.url, poolMax: 4, connectTimeoutMs: 5000, quota }),
  });

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
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${POSTGRES_STATE_TABLE}, ${POSTGRES_USAGE_TABLE} TO state_app`);
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

  describe('the per-agent quota across nodes', () => {
    /** What the table holds for an agent, summed the slow way the usage row spares each write. */
    async function summed(url: string, agent: string): Promise<{ keys: number; bytes: number }> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT count(*)::int AS keys, coalesce(sum(octet_length(key) + octet_length(value)), 0)::int AS bytes FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1`,
          [agent],
        );
        return rows[0];
      } finally {
        await client.end();
      }
    }

    it('is never passed by two nodes writing one agent at once, and their usage stays exact', async () => {
      const url = await server.createDatabase('quota_two_nodes');
      const quota = { maxKeys: 0, maxBytes: 50_000 };
      const nodes = await Promise.all([0, 1].map(() => openPostgresStateBackend({ url, poolMax: 4, connectTimeoutMs: 5000, quota })));
      try {
        // 40 batches of exactly 10,000 bytes (10 keys of 1000), 20 from each node, all in flight together:
        // 5 fit in the quota, whichever they are.
        const value = (n: number) => JSON.stringify('v'.repeat(1000 - 2 - `k${n}`.length));
        const outcomes = await Promise.allSettled(
          Array.from({ length: 40 }, (_, b) =>
            nodes[b % 2].batchStore('shared', Array.from({ length: 10 }, (_, i) => ({ key: `k${b * 10 + i}`, valueJson: value(b * 10 + i) }))),
          ),
        );
        const refused = outcomes.filter((o) => o.status === 'rejected');
        expect(outcomes.length - refused.length).toBe(5);
        for (const o of refused) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'QUOTA_EXCEEDED' });
        expect(await summed(url, 'shared')).toEqual({ keys: 50, bytes: 50_000 });
        expect(await nodes[1].usage('shared')).toEqual({ keys: 50, bytes: 50_000 });

        // Overwrites and deletes of the same keys racing from both nodes (those that would grow past the quota
        // refused): the count follows what is stored.
        await Promise.allSettled(
          Array.from({ length: 60 }, (_, n) =>
            n % 3 === 2 ? nodes[n % 2].delete('shared', `k${n % 7}`) : nodes[n % 2].store('shared', `k${n % 7}`, JSON.stringify('w'.repeat(n))),
          ),
        );
        expect(await nodes[0].usage('shared')).toEqual(await summed(url, 'shared'));
      } finally {
        await Promise.all(nodes.map((n) => n.close()));
      }
    });

    it('counts the rows of a state table made before the quota once, when it makes the usage table', async () => {
      const url = await server.createDatabase('quota_upgrade');
      const first = await openStateBackend(postgresConfig(url), undefined);
      await first.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // The database as a node of the previous version left it: the state table alone, with rows.
        await admin.query(`DROP TABLE ${POSTGRES_USAGE_TABLE}`);
        await admin.query(`INSERT INTO ${POSTGRES_STATE_TABLE} (agent, key, value) SELECT 'old', 'k' || i, repeat('é', i) FROM generate_series(1, 300) AS i`);
      } finally {
        await admin.end();
      }
      const upgraded = await openStateBackend(postgresConfig(url), undefined);
      try {
        expect(await upgraded.usage('old')).toEqual(await summed(url, 'old'));
        expect((await upgraded.usage('old')).keys).toBe(300);
      } finally {
        await upgraded.close();
      }
    });

    it('says which table is missing when a role without CREATE meets a state table made before the quota', async () => {
      const url = await server.createDatabase('quota_no_create');
      const owner = await openStateBackend(postgresConfig(url), undefined);
      await owner.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP TABLE ${POSTGRES_USAGE_TABLE}`);
        await admin.query('CREATE ROLE state_old_app LOGIN');
        await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${POSTGRES_STATE_TABLE} TO state_old_app`);
      } finally {
        await admin.end();
      }
      await expect(openStateBackend(postgresConfig(url.replace('caxton@', 'state_old_app@')), undefined)).rejects.toThrow(
        new RegExp(`the table ${POSTGRES_USAGE_TABLE} .* is missing and could not be made`),
      );
    });
  });

  it(`names its table ${POSTGRES_STATE_TABLE}`, async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const { rows } = await client.query('SELECT to_regclass($1) AS t', [POSTGRES_STATE_TABLE]);
    await client.end();
    expect(rows[0].t).toBe(POSTGRES_STATE_TABLE);
  });
});
