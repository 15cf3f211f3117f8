// Backups of a node's database: an online copy taken while the node serves, the check that a file is a
// Caxton database this version can open, and putting one in place as the database of a data dir.
//
// The copy is SQLite's online backup API (better-sqlite3's `db.backup()`), run on the node's own connection:
// it copies pages in steps between which the event loop runs, and writes the node makes through the same
// connection meanwhile are carried into the copy by SQLite itself, so the result is one consistent snapshot
// however busy the node is. `VACUUM INTO` would also be consistent but holds the event loop for the whole copy.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, chmodSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DATABASE_FILE, migrate, SCHEMA_VERSION, type SqliteDatabase } from './database.ts';
import { HISTORY_DATABASE_FILE } from './history-database.ts';
import { ensurePrivateDataDir } from './file-permissions.ts';
import { MIGRATIONS } from './migrations.ts';

/** Pages copied per step: ~400 KiB at SQLite's 4 KiB pages, a fraction of a millisecond of event-loop time. */
const PAGES_PER_STEP = 100;

/** Every file of a SQLite database begins with these 16 bytes. */
const SQLITE_HEADER = 'SQLite format 3\0';

/** Tables a Caxton database has had since its first schema version; their absence means another program's file. */
const CAXTON_TABLES = ['node_identity', 'agents', 'modules', 'api_keys'];

export class BackupFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFileError';
  }
}

/**
 * Copies the open database to `destination` (a new file, mode 0600) while the node keeps using it. With
 * `historyFile` (the node's conversations.db), the history goes into the copy's own conversation_segments
 * table, where an older Caxton kept it: the node that starts on a restored copy moves it into its history file.
 */
export async function backupDatabase(db: SqliteDatabase, destination: string, historyFile?: string): Promise<void> {
  try {
    await db.backup(destination, { progress: () => PAGES_PER_STEP });
    chmodSync(destination, 0o600);
    const copy = new BetterSqlite3(destination);
    try {
      // The copy carries the source's WAL mode; a rollback-journal file is one self-contained file, which a
      // backup should be (reading it leaves no -wal/-shm beside it). The node sets WAL again when it opens it.
      copy.pragma('journal_mode = DELETE');
      if (historyFile !== undefined && existsSync(historyFile)) await copyHistory(copy, historyFile);
    } finally {
      copy.close();
    }
  } catch (error) {
    rmSync(destination, { force: true });
    throw error;
  }
}

/**
 * The history's segments into `copy`, one segment (~0.3 MiB) per step with the event loop free between: one
 * read snapshot of the history file (the history thread goes on writing meanwhile) and one commit.
 */
async function copyHistory(copy: SqliteDatabase, historyFile: string): Promise<void> {
  copy.prepare('ATTACH DATABASE ? AS history').run(historyFile);
  try {
    copy.exec('BEGIN');
    try {
      const ids = copy.prepare('SELECT id FROM history.conversation_segments ORDER BY id').pluck().all() as number[];
      const insert = copy.prepare('INSERT INTO main.conversation_segments SELECT * FROM history.conversation_segments WHERE id = ?');
      for (const id of ids) {
        insert.run(id);
        await new Promise((resolve) => setImmediate(resolve));
      }
      copy.exec('COMMIT');
    } catch (error) {
      copy.exec('ROLLBACK');
      throw error;
    }
  } finally {
    copy.prepare('DETACH DATABASE history').run();
  }
}

export interface BackupFacts {
  /** The schema version the file carries (`user_version`). */
  schemaVersion: number;
  /** The node id stored in it. */
  nodeId: string;
  agents: number;
  apiKeys: number;
}

/**
 * Refuses a file that is not a whole Caxton database this version can open: not SQLite, damaged (SQLite's
 * quick_check), missing Caxton's tables, written by a newer Caxton, with a schema other than the one Caxton's
 * migrations make at its version (a trigger, a view, a changed table), or with conversation segments the node
 * could not read back. Answers what it holds. A backup is a file from elsewhere: the node runs what its schema
 * holds (a trigger that emptied audit_log on every insert, a view in place of dead_letters that stopped the
 * node's start, a user_version of -1 that did the same, a segment whose index made the history thread loop were
 * each restored without a word before).
 */
export function checkBackupFile(path: string): BackupFacts {
  if (!existsSync(path) || !statSync(path).isFile()) throw new BackupFileError(`${path}: no such file`);
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) throw new BackupFileError(`${path}: not a Caxton backup (not a SQLite database)`);
  let db: SqliteDatabase | undefined;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupFileError(`${path}: the database is damaged (${String(check)})`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    const missing = CAXTON_TABLES.filter((t) => !tables.has(t));
    if (missing.length) throw new BackupFileError(`${path}: not a Caxton backup (no ${missing.join(', ')} table)`);
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    if (schemaVersion > SCHEMA_VERSION) {
      throw new BackupFileError(`${path}: written by a newer Caxton (schema ${schemaVersion}, this one reads up to ${SCHEMA_VERSION}); restore it with that version`);
    }
    if (schemaVersion < 1) throw new BackupFileError(`${path}: not a Caxton backup (schema version ${schemaVersion}; Caxton's start at 1)`);
    const unexpected = schemaDifference(schemaOf(db), schemaAt(schemaVersion));
    if (unexpected !== undefined) throw new BackupFileError(`${path}: not a Caxton backup of schema ${schemaVersion}: ${unexpected}`);
    // A row naming a module or agent the backup lacks: the node enforces foreign keys, so it could not have
    // written one, and a migration that rebuilds a referenced table (schema 5) would fail on it at every start.
    const dangling = db.pragma('foreign_key_check') as { table: string; parent: string }[];
    if (dangling.length > 0) throw new BackupFileError(`${path}: ${dangling.length} row(s) of ${dangling[0].table} name a ${dangling[0].parent} row the backup does not hold`);
    const badSegment = db.prepare(MALFORMED_SEGMENT).pluck().get() as number | undefined;
    if (badSegment !== undefined) throw new BackupFileError(`${path}: conversation history segment ${badSegment} is malformed (its index does not match its messages)`);
    const identity = db.prepare('SELECT node_id FROM node_identity WHERE singleton = 1').get() as { node_id: string } | undefined;
    const count = (table: string) => (db!.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { schemaVersion, nodeId: identity?.node_id ?? '', agents: count('agents'), apiKeys: count('api_keys') };
  } catch (error) {
    if (error instanceof BackupFileError) throw error;
    throw new BackupFileError(`${path}: not a readable Caxton backup (${(error as Error).message})`);
  } finally {
    db?.close();
  }
}

/** Objects of sqlite_master that are not SQLite's own, as `type name` → `table` and SQL text. */
function schemaOf(db: SqliteDatabase): Map<string, string> {
  const rows = db
    .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE substr(name, 1, 7) <> 'sqlite_'")
    .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
  return new Map(rows.map((row) => [`${row.type} ${row.name}`, `${row.tbl_name}\n${row.sql ?? ''}`]));
}

/** What Caxton's migrations up to `version` make, in an empty database. */
function schemaAt(version: number): Map<string, string> {
  const db = new BetterSqlite3(':memory:');
  try {
    migrate(db, ':memory:', MIGRATIONS.slice(0, version));
    return schemaOf(db);
  } finally {
    db.close();
  }
}

/** The first object that is not as expected, said in words; undefined when the two schemas are the same. */
function schemaDifference(found: Map<string, string>, expected: Map<string, string>): string | undefined {
  for (const key of found.keys()) if (!expected.has(key)) return `it has a ${key} that Caxton does not make`;
  for (const [key, sql] of expected) {
    if (!found.has(key)) return `its ${key} is missing`;
    if (found.get(key) !== sql) return `its ${key} is not defined as Caxton defines it`;
  }
  return undefined;
}

/**
 * The first segment whose index (conversation ids, byte lengths) does not describe its messages, as the history
 * reads them back (conversation-segments.ts): arrays of `count` ids (text of at most 256 characters) and
 * lengths (non-negative integers) that add up, with a newline between messages, to the messages' bytes.
 */
const MALFORMED_SEGMENT = `
  SELECT id FROM conversation_segments
  WHERE NOT (
    count >= 1 AND typeof(messages) = 'blob'
    AND json_valid(conversation_ids) AND json_type(conversation_ids) = 'array' AND json_array_length(conversation_ids) = count
    AND json_valid(byte_lengths) AND json_type(byte_lengths) = 'array' AND json_array_length(byte_lengths) = count
    AND NOT EXISTS (SELECT 1 FROM json_each(conversation_ids) WHERE type <> 'text' OR length(value) NOT BETWEEN 1 AND 256)
    AND NOT EXISTS (SELECT 1 FROM json_each(byte_lengths) WHERE type <> 'integer' OR value < 0)
    AND (SELECT sum(value) FROM json_each(byte_lengths)) + count - 1 = length(messages)
    AND typeof(first_ts) = 'integer' AND typeof(last_ts) = 'integer'
  )
  LIMIT 1`;

export interface RestoreOptions {
  /** Replace the database of a data dir that already has files (the node must be stopped). */
  force?: boolean;
}

/**
 * Makes `file` the database of `dataDir`, for a stopped or new node. A dir with files in it is refused
 * without `force`; with it, the database and its WAL are replaced, the conversation history is removed, and the other
 * files (admin.key, the gossip keyring, tls/) are left as they are. The copy lands under a temporary name first, so a failed
 * restore never leaves half a database.
 */
export function restoreDatabase(file: string, dataDir: string, options: RestoreOptions = {}): BackupFacts {
  const facts = checkBackupFile(file);
  if (existsSync(dataDir)) {
    if (!statSync(dataDir).isDirectory()) throw new BackupFileError(`${dataDir}: not a directory`);
    const present = readdirSync(dataDir);
    if (present.length > 0 && !options.force) {
      throw new BackupFileError(`${dataDir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}): stop its node and pass --force to replace its database, or restore into a new dir`);
    }
  } else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  }
  ensurePrivateDataDir(dataDir);
  const target = join(dataDir, DATABASE_FILE);
  const staging = `${target}.restoring`;
  copyFileSync(file, staging);
  chmodSync(staging, 0o600);
  // A WAL left beside the old database would be replayed into the new one on open.
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  // The conversation history is not in a backup (its own file): the old node's would not belong to this one.
  const history = join(dataDir, HISTORY_DATABASE_FILE);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${history}${suffix}`, { force: true });
  renameSync(staging, target);
  return facts;
}
