// The schema of a node's SQLite, as an ordered list of steps. A step is never edited once released: a
// change is a new step, so every existing data dir reaches the current schema by replaying what it lacks.
// PRAGMA user_version holds the number of the last step applied.

export interface Migration {
  /** 1, 2, 3 … in order, no gaps: `user_version` after this step. */
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      -- One row: who this data dir belongs to (see node-identity.ts).
      CREATE TABLE node_identity (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        node_id    TEXT NOT NULL,
        created_at TEXT NOT NULL
      );

      -- WebAssembly modules, content-addressed: an upgrade back to an old module stores nothing new.
      CREATE TABLE modules (
        sha256     TEXT PRIMARY KEY,
        bytes      BLOB NOT NULL,
        size       INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE agents (
        name          TEXT PRIMARY KEY,
        spec          TEXT NOT NULL,
        state         TEXT NOT NULL,
        version       INTEGER NOT NULL,
        module_sha256 TEXT NOT NULL REFERENCES modules(sha256),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE agent_versions (
        name          TEXT NOT NULL REFERENCES agents(name) ON DELETE CASCADE,
        version       INTEGER NOT NULL,
        module_sha256 TEXT NOT NULL REFERENCES modules(sha256),
        spec          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (name, version)
      ) WITHOUT ROWID;

      -- Only the sha256 of a key is kept: a copy of the database does not leak usable keys.
      CREATE TABLE api_keys (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        role       TEXT NOT NULL,
        key_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );

      CREATE TABLE audit_log (
        id        INTEGER PRIMARY KEY,
        ts        TEXT NOT NULL,
        principal TEXT NOT NULL,
        action    TEXT NOT NULL,
        target    TEXT,
        outcome   TEXT NOT NULL,
        details   TEXT
      );

      CREATE TABLE dead_letters (
        id       INTEGER PRIMARY KEY,
        ts       TEXT NOT NULL,
        reason   TEXT NOT NULL,
        receiver TEXT,
        message  TEXT NOT NULL
      );

      -- The conversation log, one row per group commit (see conversation-store.ts): a row per message with an
      -- index on the conversation cost 5-10x more per message on the routing hot path.
      CREATE TABLE conversation_segments (
        id               INTEGER PRIMARY KEY,
        first_ts         INTEGER NOT NULL,
        last_ts          INTEGER NOT NULL,
        count            INTEGER NOT NULL,
        -- Small, and before the large column, so a start-up scan reads them without the messages:
        -- JSON arrays with the conversation id and the UTF-8 byte length of each message, in order.
        conversation_ids TEXT NOT NULL,
        byte_lengths     TEXT NOT NULL,
        -- The messages as JSON lines (UTF-8 BLOB, so that one message is read by byte offset).
        messages         BLOB NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'audit categories',
    sql: `
      -- Each category (security, denial, request) has its own retention budget by size and age, so a flood of
      -- requests or denials never pushes out who created or revoked a key.
      ALTER TABLE audit_log ADD COLUMN category TEXT NOT NULL DEFAULT 'request';
      UPDATE audit_log SET category = 'denial' WHERE outcome = 'denied';
      UPDATE audit_log SET category = 'security' WHERE action LIKE '% /api/v1/security/%' AND outcome <> 'denied';
      CREATE INDEX audit_log_by_category ON audit_log (category, id);
      CREATE INDEX audit_log_by_category_age ON audit_log (category, ts);
    `,
  },
  {
    version: 3,
    name: 'agent state',
    sql: `
      -- The state tool's values (src/tools/state/sqlite-state-backend.ts): JSON text up to 1 MiB per key,
      -- scoped by agent name. A rowid table, as WITHOUT ROWID suits only small rows.
      CREATE TABLE agent_state (
        agent TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (agent, key)
      );
    `,
  },
  {
    version: 4,
    name: 'agent state usage',
    sql: `
      -- Each agent's share of agent_state (keys, and UTF-8 bytes of key + value), changed by the state backend in
      -- the transaction of every write and delete: the per-agent quota (state.max_keys_per_agent,
      -- state.max_bytes_per_agent) reads one row per write instead of summing the agent's keys. The rows
      -- already stored are counted here, once.
      CREATE TABLE agent_state_usage (
        agent TEXT PRIMARY KEY,
        keys  INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO agent_state_usage (agent, keys, bytes)
        SELECT agent, count(*), sum(octet_length(key) + octet_length(value)) FROM agent_state GROUP BY agent;
    `,
  },
  {
    version: 5,
    name: 'modules in a rowid table',
    sql: `
      -- modules was WITHOUT ROWID: a module's bytes lay in the cells of its key's b-tree, so finding a sha256
      -- (a peer's module.get, has(), a deploy) read the stored modules on the search path (44 ms with 4 of 15 MiB
      -- for a sha256 not there). In a rowid table the key's index holds only the sha256 and the bytes sit in the
      -- row's overflow pages, read only when asked for. Same columns, same rows.
      --
      -- agents and agent_versions refer to modules(sha256), and the node's connection enforces foreign keys
      -- (it cannot switch them off inside this step's transaction): dropping modules under them would delete
      -- its rows first and fail. So they are set aside and made again, unchanged, around the swap; renaming
      -- modules instead would rewrite their references to the new name. Their rows are small; the modules are
      -- copied once.
      CREATE TABLE modules_rowid (
        sha256     TEXT NOT NULL PRIMARY KEY,
        bytes      BLOB NOT NULL,
        size       INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
      INSERT INTO modules_rowid (sha256, bytes, size, created_at) SELECT sha256, bytes, size, created_at FROM modules;

      CREATE TEMP TABLE agents_held AS SELECT * FROM agents;
      CREATE TEMP TABLE agent_versions_held AS SELECT * FROM agent_versions;
      DROP TABLE agent_versions;
      DROP TABLE agents;
      DROP TABLE modules;
      ALTER TABLE modules_rowid RENAME TO modules;

      CREATE TABLE agents (
        name          TEXT PRIMARY KEY,
        spec          TEXT NOT NULL,
        state         TEXT NOT NULL,
        version       INTEGER NOT NULL,
        module_sha256 TEXT NOT NULL REFERENCES modules(sha256),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE agent_versions (
        name          TEXT NOT NULL REFERENCES agents(name) ON DELETE CASCADE,
        version       INTEGER NOT NULL,
        module_sha256 TEXT NOT NULL REFERENCES modules(sha256),
        spec          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (name, version)
      ) WITHOUT ROWID;

      INSERT INTO agents (name, spec, state, version, module_sha256, created_at, updated_at)
        SELECT name, spec, state, version, module_sha256, created_at, updated_at FROM temp.agents_held;
      INSERT INTO agent_versions (name, version, module_sha256, spec, created_at)
        SELECT name, version, module_sha256, spec, created_at FROM temp.agent_versions_held;
      DROP TABLE temp.agents_held;
      DROP TABLE temp.agent_versions_held;
    `,
  },
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
