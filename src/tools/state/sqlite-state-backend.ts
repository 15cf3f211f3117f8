// The state tool's default backend: the `agent_state` table of the node's own SQLite (migration 3). Every
// operation is one prepared statement (or one transaction of them), run synchronously by better-sqlite3:
// a round trip costs a few microseconds plus, for a write, one WAL commit.
import type { SqliteDatabase } from '../../state/database.ts';
import { BatchTooLarge, type StateBackend, type StateEntry } from './state-backend.ts';

/** Rows read per step of `entries()`: the iteration releases the connection between pages. */
const ENTRIES_PAGE_ROWS = 500;

export function createSqliteStateBackend(db: SqliteDatabase): StateBackend {
  const upsert = db.prepare('INSERT INTO agent_state (agent, key, value) VALUES (?, ?, ?) ON CONFLICT (agent, key) DO UPDATE SET value = excluded.value');
  const select = db.prepare('SELECT value FROM agent_state WHERE agent = ? AND key = ?').pluck();
  const remove = db.prepare('DELETE FROM agent_state WHERE agent = ? AND key = ?');
  const present = db.prepare('SELECT 1 FROM agent_state WHERE agent = ? AND key = ?').pluck();
  // Keys with a given prefix are contiguous in BINARY (UTF-8 byte) order, so the index is read from the
  // prefix on and the scan stops at the first key without it (see list below).
  const from = db.prepare('SELECT key FROM agent_state WHERE agent = ? AND key >= ? ORDER BY key LIMIT ?').pluck();
  const pageAll = db.prepare('SELECT agent, key, value FROM agent_state WHERE (agent, key) > (?, ?) ORDER BY agent, key LIMIT ?');
  const firstAll = db.prepare('SELECT agent, key, value FROM agent_state ORDER BY agent, key LIMIT ?');
  const firstOne = db.prepare('SELECT agent, key, value FROM agent_state WHERE agent = ? ORDER BY key LIMIT ?');
  const pageOne = db.prepare('SELECT agent, key, value FROM agent_state WHERE agent = ? AND key > ? ORDER BY key LIMIT ?');
  const storeAll = db.transaction((agent: string, entries: Array<{ key: string; valueJson: string }>) => {
    for (const { key, valueJson } of entries) upsert.run(agent, key, valueJson);
  });
  let closed = false;

  function open(): void {
    if (closed) throw new Error('the state backend is closed');
  }

  return {
    kind: 'sqlite',
    async store(agent, key, valueJson) {
      open();
      upsert.run(agent, key, valueJson);
    },
    async retrieve(agent, key) {
      open();
      return (select.get(agent, key) as string | undefined) ?? null;
    },
    async delete(agent, key) {
      open();
      return remove.run(agent, key).changes > 0;
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
    async batchStore(agent, entries) {
      open();
      // A transaction: any failure rolls every entry back (all or nothing).
      storeAll.immediate(agent, entries);
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
