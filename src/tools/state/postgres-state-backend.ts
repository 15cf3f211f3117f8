// The state tool on a PostgreSQL shared by the cluster (state.backend: postgres): every node reads and
// writes the same `caxton_agent_state` table, so an agent's state follows it to whichever node runs it, and
// keeps each agent's usage (the quota's count) in `caxton_agent_state_usage`.
// A bounded pg Pool (state.postgres_pool_max); named statements, so each connection plans them once.
import pg from 'pg';
import { BatchTooLarge, type StateBackend, type StateEntry } from './state-backend.ts';
import { DEFAULT_STATE_QUOTA, entryBytes, quotaRefusal, type StateQuota } from './state-quota.ts';

export const POSTGRES_STATE_TABLE = 'caxton_agent_state';
export const POSTGRES_USAGE_TABLE = 'caxton_agent_state_usage';

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

// One row per agent that ever stored: its keys and the UTF-8 bytes of its keys and values (octet_length).
export const CREATE_USAGE_TABLE = `
  CREATE TABLE IF NOT EXISTS ${POSTGRES_USAGE_TABLE} (
    agent TEXT COLLATE "C" PRIMARY KEY,
    keys  BIGINT NOT NULL,
    bytes BIGINT NOT NULL
  )`;

/** Counts the rows already stored, once, when the usage table is made for an existing state table. */
export const FILL_USAGE_TABLE = `
  INSERT INTO ${POSTGRES_USAGE_TABLE} (agent, keys, bytes)
  SELECT agent, count(*), sum(octet_length(key) + octet_length(value)) FROM ${POSTGRES_STATE_TABLE} GROUP BY agent`;

// Every write and delete of an agent locks the agent's usage row before it touches the agent's keys, so
// those of one agent take turns across every node and the quota is checked against the exact usage. One
// statement does it all (one round trip), on a snapshot taken before the lock: `fresh` says whether the row
// it locked is the version that snapshot saw, i.e. no write of the agent committed in between, and only
// then does it write. When one did (another node wrote the same agent at that moment), nothing is written
// and the statement runs again in a transaction that takes the lock first (withUsageLocked).
const LOCK_USAGE = `SELECT 1 FROM ${POSTGRES_USAGE_TABLE} WHERE agent = $1 FOR UPDATE`;
const ADD_USAGE_ROW = `INSERT INTO ${POSTGRES_USAGE_TABLE} (agent, keys, bytes) VALUES ($1, 0, 0) ON CONFLICT (agent) DO NOTHING`;

/**
 * $1 agent, $2 distinct keys (ON CONFLICT cannot touch a row twice in one statement), $3 their values, $4 the
 * bytes of keys and values together, $5 max keys, $6 max bytes (0: no limit). The quota rule is
 * quotaRefusal's: a measure that does not grow is never refused. octet_length reads no TOASTed value. No row
 * when the agent has no usage row yet.
 */
const WRITE = `WITH seen AS MATERIALIZED (
    SELECT ctid FROM ${POSTGRES_USAGE_TABLE} WHERE agent = $1
  ), locked AS MATERIALIZED (
    SELECT ctid, keys, bytes FROM ${POSTGRES_USAGE_TABLE} WHERE agent = $1 FOR UPDATE
  ), replaced AS MATERIALIZED (
    SELECT count(*) AS keys, coalesce(sum(octet_length(key) + octet_length(value)), 0) AS bytes
    FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key = ANY($2::text[])
  ), plan AS MATERIALIZED (
    SELECT l.keys AS used_keys, l.bytes AS used_bytes, cardinality($2::text[]) - r.keys AS add_keys, $4::bigint - r.bytes AS add_bytes,
           EXISTS (SELECT 1 FROM seen WHERE seen.ctid = l.ctid) AS fresh
    FROM locked AS l CROSS JOIN replaced AS r
  ), allowed AS MATERIALIZED (
    SELECT add_keys, add_bytes FROM plan
    WHERE fresh
      AND ($5::bigint = 0 OR add_keys <= 0 OR used_keys + add_keys <= $5::bigint)
      AND ($6::bigint = 0 OR add_bytes <= 0 OR used_bytes + add_bytes <= $6::bigint)
  ), written AS (
    INSERT INTO ${POSTGRES_STATE_TABLE} (agent, key, value)
    SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v) WHERE EXISTS (SELECT 1 FROM allowed)
    ON CONFLICT (agent, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
  ), counted AS (
    UPDATE ${POSTGRES_USAGE_TABLE} AS u SET keys = u.keys + a.add_keys, bytes = u.bytes + a.add_bytes FROM allowed AS a WHERE u.agent = $1
  )
  SELECT used_keys, used_bytes, add_keys, add_bytes, fresh, EXISTS (SELECT 1 FROM allowed) AS written FROM plan`;

/** $1 agent, $2 key. An agent without a usage row has nothing counted to free, and nothing to lock. */
const DELETE = `WITH seen AS MATERIALIZED (
    SELECT ctid FROM ${POSTGRES_USAGE_TABLE} WHERE agent = $1
  ), locked AS MATERIALIZED (
    SELECT ctid FROM ${POSTGRES_USAGE_TABLE} WHERE agent = $1 FOR UPDATE
  ), go AS MATERIALIZED (
    SELECT NOT EXISTS (SELECT 1 FROM seen) OR EXISTS (SELECT 1 FROM locked JOIN seen USING (ctid)) AS fresh
  ), gone AS (
    DELETE FROM ${POSTGRES_STATE_TABLE} WHERE agent = $1 AND key = $2 AND (SELECT fresh FROM go)
    RETURNING octet_length(key) + octet_length(value) AS bytes
  ), counted AS (
    UPDATE ${POSTGRES_USAGE_TABLE} AS u SET keys = u.keys - 1, bytes = u.bytes - g.bytes FROM gone AS g WHERE u.agent = $1
  )
  SELECT (SELECT fresh FROM go) AS fresh, (SELECT count(*) FROM gone)::int AS deleted`;

export interface PostgresStateOptions {
  url: string;
  /** Connections held at most (state.postgres_pool_max). */
  poolMax: number;
  connectTimeoutMs: number;
  /** state.max_keys_per_agent and state.max_bytes_per_agent; the defaults when absent. */
  quota?: StateQuota;
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
  return postgresBackend(pool, options.quota ?? DEFAULT_STATE_QUOTA);
}

async function createTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
    // Looked up first: CREATE TABLE IF NOT EXISTS still needs CREATE on the schema, which an application role
    // granted only SELECT/INSERT/UPDATE/DELETE on an existing table does not have (PostgreSQL 15's default).
    const { rows } = await client.query<{ state: boolean; usage: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS state, to_regclass($2) IS NOT NULL AS usage',
      [POSTGRES_STATE_TABLE, POSTGRES_USAGE_TABLE],
    );
    if (!rows[0].state) await client.query(CREATE_TABLE);
    if (!rows[0].usage) {
      try {
        await client.query(CREATE_USAGE_TABLE);
        // A state table from before the quota: its rows are counted once. SHARE mode holds off every writer
        // (nodes of the previous version too) while they are, so none is missed or counted twice.
        if (rows[0].state) {
          await client.query(`LOCK TABLE ${POSTGRES_STATE_TABLE} IN SHARE MODE`);
          await client.query(FILL_USAGE_TABLE);
        }
      } catch (error) {
        throw new Error(
          `the table ${POSTGRES_USAGE_TABLE} (each agent's usage, for state.max_keys_per_agent and state.max_bytes_per_agent) is missing and ` +
            `could not be made (${(error as Error).message}): start a node once with a role that has CREATE on the schema, or create it as docs/operations.md says`,
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function postgresBackend(pool: pg.Pool, quota: StateQuota): StateBackend {
  let closed = false;
  const query = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> => {
    if (closed) throw new Error('the state backend is closed');
    return pool.query<R>({ name, text, values });
  };

  /**
   * Runs `work` in a transaction that holds the agent's usage row from its start, so every statement of it
   * sees the agent's keys as they are; a write creates the row when absent, a delete does not.
   */
  const withUsageLocked = async <T>(agent: string, create: boolean, work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    if (closed) throw new Error('the state backend is closed');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (create) await client.query({ name: 'caxton_state_usage_add', text: ADD_USAGE_ROW, values: [agent] });
      await client.query({ name: 'caxton_state_usage_lock', text: LOCK_USAGE, values: [agent] });
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };

  type WriteOutcome = { used_keys: string; used_bytes: string; add_keys: string; add_bytes: string; fresh: boolean; written: boolean };

  const write = async (agent: string, entries: ReadonlyMap<string, string>, enforceQuota: boolean): Promise<void> => {
    const keys = [...entries.keys()];
    let bytes = 0;
    for (const [key, valueJson] of entries) bytes += entryBytes(key, valueJson);
    const values = [agent, keys, [...entries.values()], bytes, enforceQuota ? quota.maxKeys : 0, enforceQuota ? quota.maxBytes : 0];
    let outcome: WriteOutcome | undefined = (await query<WriteOutcome>('caxton_state_write', WRITE, values)).rows[0];
    // The agent's first write (no usage row to lock yet), or another node's write of the agent in between.
    if (!outcome?.fresh) {
      outcome = await withUsageLocked(agent, true, async (client) => (await client.query<WriteOutcome>({ name: 'caxton_state_write', text: WRITE, values })).rows[0]);
    }
    if (outcome.written) return;
    const usage = { keys: Number(outcome.used_keys), bytes: Number(outcome.used_bytes) };
    const adds = { keys: Number(outcome.add_keys), bytes: Number(outcome.add_bytes) };
    throw quotaRefusal(agent, quota, usage, adds) ?? new Error(`agent "${agent}": the write was not made, though within the quota (${JSON.stringify({ usage, adds })})`);
  };

  const remove = async (agent: string, key: string): Promise<boolean> => {
    type DeleteOutcome = { fresh: boolean; deleted: number };
    let outcome = (await query<DeleteOutcome>('caxton_state_delete', DELETE, [agent, key])).rows[0];
    if (!outcome.fresh) {
      outcome = await withUsageLocked(agent, false, async (client) => (await client.query<DeleteOutcome>({ name: 'caxton_state_delete', text: DELETE, values: [agent, key] })).rows[0]);
    }
    return outcome.deleted > 0;
  };

  return {
    kind: 'postgres',
    async store(agent, key, valueJson) {
      await write(agent, new Map([[key, valueJson]]), true);
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
      return remove(agent, key);
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
    async batchStore(agent, entries, options) {
      if (entries.length === 0) return;
      // One transaction (all or nothing). ON CONFLICT cannot touch a row twice in one statement, so a key
      // given twice keeps its last value, as sequential stores would, and is counted once.
      const last = new Map<string, string>();
      for (const { key, valueJson } of entries) last.set(key, valueJson);
      await write(agent, last, options?.enforceQuota ?? true);
    },
    async usage(agent) {
      const result = await query<{ keys: string; bytes: string }>(
        'caxton_state_usage',
        `SELECT keys, bytes FROM ${POSTGRES_USAGE_TABLE} WHERE agent = $1`,
        [agent],
      );
      const row = result.rows[0];
      return row ? { keys: Number(row.keys), bytes: Number(row.bytes) } : { keys: 0, bytes: 0 };
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
