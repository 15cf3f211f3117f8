// Review finding: `caxton backup restore` checked the header, quick_check, four table names and that the schema
// was not newer; a crafted file passed with a trigger that emptied audit_log on every insert (the node ran and
// kept no audit row), a view in place of dead_letters or a user_version of -1 (each restored, then the node would
// not start), or a conversation segment whose index made the history thread loop (history lost, 24 s to stop).
// A backup's schema must now be exactly what Caxton's migrations make at its version, and its segments readable.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupFileError, checkBackupFile, restoreDatabase } from '../../src/state/database-backup.ts';
import { openNodeState } from '../../src/state/node-state.ts';
import { ConversationSegments } from '../../src/state/conversation-segments.ts';
import { openDatabase } from '../../src/state/database.ts';
import { SCHEMA_VERSION } from '../../src/state/migrations.ts';
import { message, tempDir } from './helpers.ts';
import { historyTextOf } from '../../src/state/history-text.ts';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

/** A real node's database, with a conversation segment in it as a backup carries the history; then `sql` run on it. */
function backupWith(sql: string): string {
  const source = join(dir.path, `source-${Math.random().toString(36).slice(2)}`);
  openNodeState({ dataDir: source, nodeId: 'n1' }).close();
  const database = openDatabase(source);
  const m = message('c', 1);
  new ConversationSegments(database.db, { maxMessages: 100, maxAgeMs: 60_000 }).write([{ ts: Date.now(), conversationId: 'c', text: historyTextOf(m)! }]);
  database.close();
  const file = join(source, 'caxton.db');
  const db = new BetterSqlite3(file);
  db.exec(sql);
  db.pragma('journal_mode = DELETE');
  db.close();
  return file;
}

describe('restoring a crafted backup', () => {
  it('a real backup passes', () => {
    expect(checkBackupFile(backupWith(''))).toMatchObject({ nodeId: 'n1', schemaVersion: SCHEMA_VERSION });
  });

  it.each([
    ['a trigger', 'CREATE TRIGGER wipe AFTER INSERT ON audit_log BEGIN DELETE FROM audit_log; END;', /trigger wipe that Caxton does not make/],
    ['a view in place of a table', "DROP TABLE dead_letters; CREATE VIEW dead_letters AS SELECT 1 AS id, '' AS ts, '' AS reason, NULL AS receiver, '{}' AS message;", /view dead_letters that Caxton does not make/],
    ['a changed table', 'ALTER TABLE dead_letters ADD COLUMN extra TEXT;', /table dead_letters is not defined as Caxton defines it/],
    ['an extra index', 'CREATE INDEX spy ON api_keys (key_sha256, name);', /index spy that Caxton does not make/],
    ['a schema version below 1', 'PRAGMA user_version = -1;', /schema version -1/],
    ['an older version with a newer table', 'PRAGMA user_version = 2;', /table agent_state that Caxton does not make/],
    ['a segment index that is not an array', `UPDATE conversation_segments SET conversation_ids = '{"length": 100000000}';`, /segment 1 is malformed/],
    ['segment lengths that do not add up', `UPDATE conversation_segments SET byte_lengths = '[999999]';`, /segment 1 is malformed/],
    [
      'an agent whose module it lacks',
      `PRAGMA foreign_keys = OFF; INSERT INTO agents VALUES ('ghost', '{}', 'running', 1, '${'0'.repeat(64)}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');`,
      /1 row\(s\) of agents name a modules row the backup does not hold/,
    ],
  ])('refuses %s, and restores nothing', (_what, sql, reason) => {
    const file = backupWith(sql);
    expect(() => checkBackupFile(file)).toThrow(BackupFileError);
    expect(() => checkBackupFile(file)).toThrow(reason);
    const target = join(dir.path, 'target');
    rmSync(target, { recursive: true, force: true });
    expect(() => restoreDatabase(file, target)).toThrow(reason);
    expect(existsSync(target)).toBe(false);
  });
});
