// `caxton state import --from-postgres`: the PostgreSQL-era rows of an application become an agent's state,
// with counts, and a second run changes nothing. Runs against a real PostgreSQL (test/helpers/postgres.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openDatabase } from '../../src/state/database.ts';
import { caxton } from '../cli/run.ts';
import { runCli, startNode } from '../helpers/node-process.ts';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { tempDir } from '../state/helpers.ts';

const unavailable = postgresUnavailableReason();
if (unavailable) console.warn(`\n*** SKIPPING caxton state import --from-postgres tests: ${unavailable} ***\n`);

const env = { PATH: process.env.PATH };
const ROWS = 10_000;

describe.skipIf(unavailable !== null)('caxton state import --from-postgres', () => {
  let server: PostgresServer;
  let sourceUrl: string;
  const dir = tempDir();

  beforeAll(async () => {
    server = await startPostgres();
    sourceUrl = await server.createDatabase('legacy_app');
    const client = new pg.Client({ connectionString: sourceUrl });
    await client.connect();
    await client.query('CREATE SEQUENCE counter');
    await client.query(`CREATE TABLE sessions (id TEXT PRIMARY KEY, owner TEXT NOT NULL, doc JSONB NOT NULL, note TEXT)`);
    await client.query(
      `INSERT INTO sessions SELECT 'session/' || lpad(i::text, 5, '0'), CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END,
         jsonb_build_object('i', i, 'tags', jsonb_build_array('a', 'b')), CASE WHEN i % 3 = 0 THEN '{"note": ' || i || '}' END
       FROM generate_series(1, $1) AS i`,
      [ROWS],
    );
    await client.end();
    openDatabase(dir.path).close();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  const importRows = (...args: string[]) =>
    caxton(['--data-dir', dir.path, '--output', 'json', 'state', '--offline', 'import', '--from-postgres', sourceUrl, ...args], env);

  it(`copies ${ROWS} rows into an agent's state, and a second run changes nothing`, async () => {
    const query = 'SELECT id, doc FROM sessions';
    const first = await importRows('--query', query, '--agent', 'sessions');
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toEqual({ read: ROWS, written: ROWS, unchanged: 0, skipped: 0, problems: [] });
    const second = await importRows('--query', query, '--agent', 'sessions');
    expect(JSON.parse(second.stdout)).toEqual({ read: ROWS, written: 0, unchanged: ROWS, skipped: 0, problems: [] });
    const value = await caxton(['--data-dir', dir.path, '--output', 'json', 'state', '--offline', 'get', '--agent', 'sessions', 'session/00042'], env);
    expect(JSON.parse(value.stdout)).toEqual({ i: 42, tags: ['a', 'b'] });
    // A changed row is written again; only it.
    const client = new pg.Client({ connectionString: sourceUrl });
    await client.connect();
    await client.query(`UPDATE sessions SET doc = '{"i": 42, "changed": true}' WHERE id = 'session/00042'`);
    await client.end();
    const third = await importRows('--query', query, '--agent', 'sessions');
    expect(JSON.parse(third.stdout)).toMatchObject({ read: ROWS, written: 1, unchanged: ROWS - 1 });
  });

  it('takes named key and value columns, parses JSON text on request, and skips what cannot be a value', async () => {
    const base = ['--query', "SELECT owner, id AS k, note FROM sessions WHERE id <= 'session/00010' ORDER BY id", '--key-column', 'k', '--value-column', 'note'];
    const asStrings = await importRows(...base, '--agent', 'notes-text');
    expect(JSON.parse(asStrings.stdout)).toMatchObject({ read: 10, written: 10, skipped: 0 });
    const text = await caxton(['--data-dir', dir.path, '--output', 'json', 'state', '--offline', 'get', '--agent', 'notes-text', 'session/00003'], env);
    expect(JSON.parse(text.stdout)).toBe('{"note": 3}');
    const parsed = await importRows(...base, '--agent', 'notes-json', '--parse-json');
    expect(JSON.parse(parsed.stdout)).toMatchObject({ read: 10, written: 10 });
    const json = await caxton(['--data-dir', dir.path, '--output', 'json', 'state', '--offline', 'get', '--agent', 'notes-json', 'session/00003'], env);
    expect(JSON.parse(json.stdout)).toEqual({ note: 3 });
    const nullKeys = await importRows('--query', "SELECT NULL::text AS key, 1 AS value UNION ALL SELECT 'ok', 2", '--agent', 'nulls');
    expect(JSON.parse(nullKeys.stdout)).toMatchObject({ read: 2, written: 1, skipped: 1, problems: ['item 1: the key is NULL'] });
  });

  it('never changes the source database, and reports a bad column or query as one error line', async () => {
    // A SELECT with a side effect: refused by the READ ONLY transaction the import runs in.
    const write = await importRows('--query', "SELECT 'k' AS key, nextval('counter') AS value", '--agent', 'w');
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/read-only transaction/);
    const badColumn = await importRows('--query', 'SELECT id, owner, doc FROM sessions', '--agent', 'c');
    expect(badColumn.code).toBe(1);
    expect(badColumn.stderr).toMatch(/no column 'key' \(--key-column\); its columns: id, owner, doc/);
    const noQuery = await importRows('--agent', 'c');
    expect(noQuery.code).toBe(2);
    expect(noQuery.stderr).toMatch(/--query/);
  });

  it(`through a running node's API (the default): ${ROWS} rows, then a second run that changes nothing`, async () => {
    const node = await startNode();
    try {
      const run = () =>
        runCli(['--server', node.url, '--data-dir', node.dataDir, '--output', 'json', 'state', 'import', '--from-postgres', sourceUrl, '--query', 'SELECT id, doc FROM sessions', '--agent', 'sessions']);
      const first = await run();
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ read: ROWS, written: ROWS, unchanged: 0, skipped: 0, problems: [] });
      const second = await run();
      expect(JSON.parse(second.stdout)).toEqual({ read: ROWS, written: 0, unchanged: ROWS, skipped: 0, problems: [] });
      const value = await runCli(['--server', node.url, '--data-dir', node.dataDir, '--output', 'json', 'state', 'get', '--agent', 'sessions', 'session/10000']);
      expect(JSON.parse(value.stdout)).toEqual({ i: 10000, tags: ['a', 'b'] });
    } finally {
      await node.kill('SIGTERM');
    }
  }, 120_000);

  it('imports into a PostgreSQL state backend too (--postgres-url)', async () => {
    const stateUrl = await server.createDatabase('caxton_state');
    const run = await caxton(
      ['--output', 'json', 'state', '--postgres-url', stateUrl, 'import', '--from-postgres', sourceUrl, '--query', 'SELECT id, doc FROM sessions LIMIT 100', '--agent', 'sessions'],
      env,
    );
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 100, written: 100 });
    const listed = await caxton(['--output', 'json', 'state', '--postgres-url', stateUrl, 'list', '--agent', 'sessions', '--limit', '3'], env);
    expect(JSON.parse(listed.stdout)).toEqual({ keys: ['session/00001', 'session/00002', 'session/00003'] });
  });
});
