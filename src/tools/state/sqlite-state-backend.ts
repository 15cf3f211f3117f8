// The state tool's default backend: the `agent_state` table of the node's own SQLite (migration 3), and
// each agent's usage in `agent_state_usage` (migration 4). Every operation is one prepared statement or one
// transaction of them, run synchronously by better-sqlite3: a round trip costs a few microseconds plus, for
// a write, one WAL commit.
import type { SqliteDatabase } from '../../state/database.ts';
import { BatchTooLarge, type StateBackend, type StateEntry } from './state-backend.ts';
import { DEFAULT_STATE_QUOTA, entryBytes, quotaRefusal, type StateQuota, type StateUsage } from './state-quota.ts';

/** Rows read per step of `entries()`: the iteration releases the connection between pages. */
const ENTRIES_PAGE_ROWS = 500;

export function createSqliteStateBackend(db: SqliteDatabase, quota: StateQuota = DEFAULT_STATE_QUOTA): StateBackend {
  const upsert = db.prepare('INSERT INTO agent_state (agent, key, value) VALUES (?, ?, ?) ON CONFLICT (agent, key) DO UPDATE SET value = excluded.value');
  const select = db.prepare('SELECT value FROM agent_state WHERE agent = ? AND key = ?').pluck();
  // octet_length reads a value's size from the record header, without loading the value itself.
  const storedBytes = db.prepare('SELECT octet_length(key) + octet_length(value) FROM agent_state WHERE agent = ? AND key = ?').pluck();
  const remove = db.prepare('DELETE FROM agent_state WHERE agent = ? AND key = ? RETURNING octet_length(key) + octet_length(value)').pluck();
  const usageOf = db.prepare('SELECT keys, bytes FROM agent_state_usage WHERE agent = ?');
  const addUsage = db.prepare(
    'INSERT INTO agent_state_usage (agent, keys, bytes) VALUES (?, ?, ?) ON CONFLICT (agent) DO UPDATE SET keys = keys + excluded.keys, bytes = bytes + excluded.bytes',
  );
  const present = db.prepare('SELECT 1 FROM agent_state WHERE agent = ? AND key = ?').pluck();
  // Keys with a given prefix are contiguous in BINARY (UTF-8 byte) order, so the index is read from the
  // prefix on and the scan stops at the first key without it (see list below).
  const from = db.prepare('SELECT key FROM agent_state WHERE agent = ? AND key >= ? ORDER BY key LIMIT ?').pluck();
  const pageAll = db.prepare('SELECT agent, key, value FROM agent_state WHERE (agent, key) > (?, ?) ORDER BY agent, key LIMIT ?');
  const firstAll = db.prepare('SELECT agent, key, value FROM agent_state ORDER BY agent, key LIMIT ?');
  const firstOne = db.prepare('SELECT agent, key, value FROM agent_state WHERE agent = ? ORDER BY key LIMIT ?');
  const pageOne = db.prepare('SELECT agent, key, value FROM agent_state WHERE agent = ? AND key > ? ORDER BY key LIMIT ?');
  // Run IMMEDIATE: the write lock is taken before the usage is read, so another process writing the same
  // database (`caxton state --offline`) cannot slip a write between the check and the write.
  const write = db.transaction((agent: string, entries: ReadonlyMap<string, string>, enforceQuota: boolean) => {
    const adds: StateUsage = { keys: 0, bytes: 0 };
    for (const [key, valueJson] of entries) {
      const old = storedBytes.get(agent, key) as number | undefined;
      if (old === undefined) adds.keys++;
      adds.bytes += entryBytes(key, valueJson) - (old ?? 0);
    }
    if (enforceQuota) {
      const refusal = quotaRefusal(agent, quota, (usageOf.get(agent) as StateUsage | undefined) ?? { keys: 0, bytes: 0 }, adds);
      if (refusal) throw refusal;
    }
    for (const [key, valueJson] of entries) upsert.run(agent, key, valueJson);
    if (adds.keys !== 0 || adds.bytes !== 0) addUsage.run(agent, adds.keys, adds.bytes);
  });
  const removeOne = db.transaction((agent: string, key: string): boolean => {
    const bytes = remove.get(agent, key) as number | undefined;
    if (bytes === undefined) return false;
    addUsage.run(agent, -1, -bytes);
    return true;
  });
  let closed = false;

  function open(): void {
    if (closed) throw new Error('the state backend is closed');
  }

  return {
    kind: 'sqlite',
    async store(agent, key, valueJson) {
      open();
      write.immediate(agent, new Map([[key, valueJson]]), true);
    },
    async retrieve(agent, key) {
      open();
      return (select.get(agent, key) as string | undefined) ?? null;
    },
    async delete(agent, key) {
      open();
      return removeOne.immediate(agent, key);
    },
    async list(agent, prefix, limit) {
      open();
      const keys: string[] = [];
      for (const key of from.all(agent, prefix, limit) as string[]) {
        if (!key.startsWith(prefix)) break;
        keys.push(key);
      }
      return keys;
    },
    async exists(agent, key) {
      open();
      return present.get(agent, key) !== undefined;
    },
    async batchStore(agent, entries, options) {
      open();
      // One transaction: a refusal or any failure rolls every entry back (all or nothing). A key given twice
      // keeps its last value, as sequential stores would, and is counted once.
      const last = new Map<string, string>();
      for (const { key, valueJson } of entries) last.set(key, valueJson);
      write.immediate(agent, last, options?.enforceQuota ?? true);
    },
    async batchRetrieve(agent, keys, maxBytes = Infinity) {
      open();
      const found = new Map<string, string>();
      let bytes = 0;
      for (const key of keys) {
        const value = select.get(agent, key) as string | undefined;
        if (value === undefined) continue;
        // Counted as read: 1000 values of 1 MiB would otherwise all be held (3.3 GB of heap, measured).
        bytes += Buffer.byteLength(value);
        if (bytes > maxBytes) throw new BatchTooLarge(maxBytes);
        found.set(key, value);
      }
      return found;
    },
    async usage(agent) {
      open();
      return (usageOf.get(agent) as StateUsage | undefined) ?? { keys: 0, bytes: 0 };
    },
    async *entries(agent?: string): AsyncIterable<StateEntry> {
      open();
      let lastAgent = agent ?? '';
      let lastKey = '';
      // Keyset pages: an iterator held open across awaits would block every other statement on the connection.
      let first = true;
      for (;;) {
        const rows = (
          agent === undefined
            ? first
              ? firstAll.all(ENTRIES_PAGE_ROWS)
              : pageAll.all(lastAgent, lastKey, ENTRIES_PAGE_ROWS)
            : first
              ? firstOne.all(agent, ENTRIES_PAGE_ROWS)
              : pageOne.all(agent, lastKey, ENTRIES_PAGE_ROWS)
        ) as StateEntry[];
        first = false;
        for (const row of rows) yield { agent: row.agent, key: row.key, value: row.value };
        if (rows.length < ENTRIES_PAGE_ROWS) return;
        lastAgent = rows[rows.length - 1].agent;
        lastKey = rows[rows.length - 1].key;
      }
    },
    async close() {
      // The database belongs to the node, which closes it; the backend only stops answering.
      closed = true;
    },
  };
}
