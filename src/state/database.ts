// Opens a node's embedded SQLite and brings its schema up to date. One file per node, `<dataDir>/caxton.db`,
// in WAL mode: readers never block the writer and a crash (even SIGKILL) loses no committed transaction.
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ensurePrivateDataDir, preparePrivateDatabaseFile } from './file-permissions.ts';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';

export type SqliteDatabase = BetterSqlite3.Database;

export const DATABASE_FILE = 'caxton.db';

/** How long a statement waits for a lock held by another connection (a backup tool, the sqlite3 shell). */
const BUSY_TIMEOUT_MS = 5000;

/** Thrown when the data dir was written by a newer Caxton: opening it could destroy what we cannot read. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `${path} has schema version ${found}, but this Caxton understands up to ${supported}: ` +
        'it was written by a newer Caxton. Run that version, or start with another --data-dir.',
    );
    this.name = 'SchemaTooNewError';
  }
}

export interface Database {
  readonly db: SqliteDatabase;
  readonly path: string;
  readonly dataDir: string;
  /** `user_version` after migrations. */
  readonly schemaVersion: number;
  /**
   * Registers work to do before the file closes (stores flush their write buffers here). Runs in order
   * of registration.
   */
  onClose(hook: () => void): void;
  /** Runs the close hooks, checkpoints the WAL into the main file and closes. Idempotent. */
  close(): void;
}

export interface OpenDatabaseOptions {
  /** The steps to apply; tests pass their own to exercise upgrades. */
  migrations?: readonly Migration[];
}

export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): Database {
  // 0700 and 0600: the database holds key hashes, the audit log and every agent's module.
  ensurePrivateDataDir(dataDir);
  const path = join(dataDir, DATABASE_FILE);
  const db = openPrivateWalFile(path);
  try {
    db.pragma('foreign_keys = ON');
    const schemaVersion = migrate(db, path, options.migrations ?? MIGRATIONS);
    return wrap(db, path, dataDir, schemaVersion);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A SQLite file of the data dir (checked already), mode 0600, in WAL mode with the node's durability. */
export function openPrivateWalFile(path: string): SqliteDatabase {
  preparePrivateDatabaseFile(path);
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: commits survive a process crash; only an OS crash or power cut may lose the last
    // few. FULL would fsync every commit (~65 µs here, 0.5–2 ms on cloud disks) for little more.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies every step above the file's `user_version`, each in its own transaction. */
export function migrate(db: SqliteDatabase, path: string, migrations: readonly Migration[]): number {
  const target = migrations.length ? migrations[migrations.length - 1].version : 0;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name}: version ${m.version} out of order (expected ${i + 1})`);
  });
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > target) throw new SchemaTooNewError(path, current, target);
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      // PRAGMA takes no bound parameters; the version is an integer from our own table.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return target;
}

function wrap(db: SqliteDatabase, path: string, dataDir: string, schemaVersion: number): Database {
  const hooks: Array<() => void> = [];
  let closed = false;
  return {
    db,
    path,
    dataDir,
    schemaVersion,
    onClose: (hook) => void hooks.push(hook),
    close() {
      if (closed) return;
      closed = true;
      let firstError: unknown;
      for (const hook of hooks) {
        try {
          hook();
        } catch (error) {
          firstError ??= error;
        }
      }
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
      if (firstError) throw firstError;
    },
  };
}

export { SCHEMA_VERSION };
