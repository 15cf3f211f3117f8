// The conversation history's own SQLite file, `<dataDir>/conversations.db`, beside caxton.db. Its own file so
// that the history thread (conversation-log-worker.ts) is its only writer: sharing caxton.db would make the
// main thread's writes (audit, dead letters, agent state) wait on its lock, with the event loop blocked.
import { join } from 'node:path';
import { SEGMENTS_SCHEMA } from './conversation-segments.ts';
import { openPrivateWalFile, type SqliteDatabase } from './database.ts';

export const HISTORY_DATABASE_FILE = 'conversations.db';

/** Opens (creating) the history file: mode 0600, WAL, the segments table. The data dir is checked already. */
export function openHistoryDatabase(dataDir: string): SqliteDatabase {
  const db = openPrivateWalFile(join(dataDir, HISTORY_DATABASE_FILE));
  try {
    db.exec(SEGMENTS_SCHEMA);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Makes the history file ready before its thread starts, so that a file that cannot be opened stops the
 * start-up with the reason; then moves into it what an older Caxton kept in caxton.db. Returns the segments moved.
 */
export function prepareHistoryFile(main: SqliteDatabase, dataDir: string): number {
  openHistoryDatabase(dataDir).close();
  return moveLegacyHistory(main, dataDir);
}

/**
 * Moves the history an older Caxton kept in caxton.db (`main`) into the history file, once; returns the
 * segments moved. Idempotent: a move cut short by a crash copies again what is still in caxton.db, and a
 * segment already copied is skipped by its id.
 */
export function moveLegacyHistory(main: SqliteDatabase, dataDir: string): number {
  const hasTable = main.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conversation_segments'").get();
  if (!hasTable || !main.prepare('SELECT 1 FROM conversation_segments LIMIT 1').get()) return 0;
  main.prepare('ATTACH DATABASE ? AS history').run(join(dataDir, HISTORY_DATABASE_FILE));
  try {
    return main.transaction(() => {
      const moved = main.prepare('INSERT OR IGNORE INTO history.conversation_segments SELECT * FROM main.conversation_segments').run().changes;
      main.prepare('DELETE FROM main.conversation_segments').run();
      return moved;
    })();
  } finally {
    main.prepare('DETACH DATABASE history').run();
  }
}
