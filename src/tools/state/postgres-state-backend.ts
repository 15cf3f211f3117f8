// The state tool on a PostgreSQL shared by the cluster (state.backend: postgres): every node reads and
// writes the same `caxton_agent_state` table, so an agent's state follows it to whichever node runs it.
// A bounded pg Pool (state.postgres_pool_max); named statements, so each connection plans them once.
import pg from 'pg';
import { BatchTooLarge, type StateBackend, type StateEntry } from './state-backend.ts';

export const POSTGRES_STATE_TABLE = 'caxton_agent_state';

/**
 * A statement running longer than this is cancelled by the server: a lock held elsewhere cannot keep a
 * pool connection busy for ever. Equal to the gateway's default call timeout (mcp.call_timeout_ms), by
 * which time the agent has had its TIMEOUT anyway.
 */
const STATEMENT_TIMEOUT_MS = 30_000;

/** Rows read per step of `entries()`. */
const ENTRIES_PAGE_ROWS = 1000;

/** Any constant: nodes starting together take this advisory lock so only one of them creates the table. */
const SCHEMA_LOCK_ID = 0x6361_7874; // "cart", arbitrary

// COLLATE "C": keys sort by code point (UTF-8 bytes), so the keys with a prefix are contiguous and `list`
// reads them straight from the primary-key index, whatever the database's default collation.
const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS ${POSTGRES_STATE_TABLE} (
    agent      TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (agent, key)
  )`;

const UPSERT = `INSERT INTO ${POSTGRES_STATE_TABLE} (agent, key, value) VALUES ($1, $2, $3)
  ON CONFLICT (agent, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;
const UPSERT_MANY = `INSERT INTO ${POSTGRES_STATE_TABLE} (agent, key, value)
  SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
  ON CONFLICT (agent, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;

export interface PostgresStateOptions {
  url: string;
  /** Connections held at most (state.postgres_pool_max). */
  poolMax: number;
  connectTimeoutMs: number;
}

export async function openPostgresStateBackend(options: PostgresStateOptions): Promise<StateBackend> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // Idle connections are closed after 30 s, so a quiet node holds none.
    idleTimeoutMillis: 30_000,
    application_name: 'caxton-state',
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
  // A connection that dies while idle (server restart, network cut) is reported here; without a listener pg
  // would throw it out of the process. The next call opens a new connection.
  pool.on('error', () => {});
  try {
    await createTable(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(`cannot open the PostgreSQL state database: ${(error as Error).message}`);
  }
  return postgresBackend(pool);
}

async function createTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
    // Looked up first: CREATE TABLE IF NOT EXISTS still needs CREATE on the schema, which an application role
    // granted only SELECT/INSERT/UPDATE/DELETE on an existing table does not have (PostgreSQL 15's default).
    const { rows } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [POSTGRES_STATE_TABLE]);
    if (!rows[0].present) await client.query(CREATE_TABLE);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function postgresBackend(pool: pg.Pool): StateBackend {
  let closed = false;
  const query = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> => {
    if (closed) throw new Error('the state backend is closed');
    return pool.query<R>({ name, text, values });
  };

  return {
    kind: 'postgres',
    async store(agent, key, valueJson) {
      await query('caxton_state_store', UPSERT, [agent, key, valueJson]);
    },
    async retrieve(agent, key) {
      const result = await query<{ value: string }>(
        'caxton_state_retrieve',
        `SELECT value FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key = $2`,
        [agent, key],
      );
      return result.rows[0]?.value ?? null;
    },
    async delete(agent, key) {
      const result = await query('caxton_state_delete', `DELETE FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key = $2`, [agent, key]);
      return (result.rowCount ?? 0) > 0;
    },
    async list(agent, prefix, limit) {
      const result = await query<{ key: string }>(
        'caxton_state_list',
        `SELECT key FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key >= $2 ORDER BY key LIMIT $3`,
        [agent, prefix, limit],
      );
      const keys: string[] = [];
      for (const { key } of result.rows) {
        if (!key.startsWith(prefix)) break;
        keys.push(key);
      }
      return keys;
    },
    async exists(agent, key) {
      const result = await query('caxton_state_exists', `SELECT 1 FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key = $2`, [agent, key]);
      return result.rows.length > 0;
    },
    async batchStore(agent, entries) {
      if (entries.length === 0) return;
      // One statement is one transaction (all or nothing). ON CONFLICT cannot touch a row twice in one
      // statement, so a key given twice keeps its last value, as sequential stores would.
      const last = new Map<string, string>();
      for (const { key, valueJson } of entries) last.set(key, valueJson);
      await query('caxton_state_store_many', UPSERT_MANY, [agent, [...last.keys()], [...last.values()]]);
    },
    async batchRetrieve(agent, keys, maxBytes = Number.MAX_SAFE_INTEGER) {
      const found = new Map<string, string>();
      if (keys.length === 0) return found;
      // Rows are sent only while the bytes before them are within maxBytes (octet_length reads a value's size
      // without its body): at most maxBytes plus one value crosses the wire, however large the batch.
      const result = await query<{ key: string; value: string; running: string }>(
        'caxton_state_retrieve_many',
        `SELECT key, value, running FROM (
           SELECT key, value, sum(octet_length(value)) OVER (ORDER BY key) AS running, octet_length(value) AS bytes
           FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key = ANY($2::text[])
         ) AS t WHERE running - bytes <= $3`,
        [agent, keys, maxBytes],
      );
      for (const row of result.rows) {
        if (Number(row.running) > maxBytes) throw new BatchTooLarge(maxBytes);
        found.set(row.key, row.value);
      }
      return found;
    },
    async *entries(agent?: string): AsyncIterable<StateEntry> {
      let lastAgent = agent ?? '';
      let lastKey: string | null = null;
      for (;;) {
        const result: pg.QueryResult<StateEntry> =
          agent === undefined
            ? lastKey === null
              ? await query<StateEntry>('caxton_state_all_first', `SELECT agent, key, value FROM ${POSTGRES_STATE_TABLE} ORDER BY agent, key LIMIT $1`, [ENTRIES_PAGE_ROWS])
              : await query<StateEntry>(
                  'caxton_state_all_next',
                  `SELECT agent, key, value FROM ${POSTGRES_STATE_TABLE} WHERE (agent, key) > ($1, $2) ORDER BY agent, key LIMIT $3`,
                  [lastAgent, lastKey, ENTRIES_PAGE_ROWS],
                )
            : lastKey === null
              ? await query<StateEntry>('caxton_state_one_first', `SELECT agent, key, value FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 ORDER BY key LIMIT $2`, [agent, ENTRIES_PAGE_ROWS])
              : await query<StateEntry>(
                  'caxton_state_one_next',
                  `SELECT agent, key, value FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key > $2 ORDER BY key LIMIT $3`,
                  [agent, lastKey, ENTRIES_PAGE_ROWS],
                );
        for (const row of result.rows) yield { agent: row.agent, key: row.key, value: row.value };
        if (result.rows.length < ENTRIES_PAGE_ROWS) return;
        lastAgent = result.rows[result.rows.length - 1].agent;
        lastKey = result.rows[result.rows.length - 1].key;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
