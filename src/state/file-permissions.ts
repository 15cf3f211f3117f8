// What a node's files may look like before it trusts them, the way ssh treats its keys: the data dir is the
// node's own (created 0700; an existing world-writable one is refused), the database and its WAL and shared
// memory files are 0600, and an admin.key readable by others or owned by someone else is refused. Each
// refusal is one line naming the path and the fix. POSIX only: Windows has no such mode bits.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

export class FilePermissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilePermissionError';
  }
}

const posix = process.platform !== 'win32';
const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

/** Creates the data dir 0700, or refuses an existing one that any user may write to. */
export function ensurePrivateDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return;
  }
  if (!posix) return;
  const stat = statSync(dataDir);
  if (!stat.isDirectory()) throw new FilePermissionError(`${dataDir}: not a directory; point --data-dir at a directory`);
  if ((stat.mode & 0o002) !== 0) {
    throw new FilePermissionError(
      `${dataDir}: data dir is world-writable (mode ${octal(stat.mode)}), so any user could replace the node's database or admin key; run: chmod 700 ${dataDir}`,
    );
  }
}

/**
 * Makes the database file exist with mode 0600 before SQLite opens it: SQLite gives the WAL and shared-memory
 * files it creates the database file's mode, so they are 0600 too. Files left wider by an older Caxton are
 * narrowed (they are ours: the data dir is checked first).
 */
export function preparePrivateDatabaseFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  if (!posix) return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch {
      /* a foreign-owned file: SQLite's open says what is wrong with it */
    }
  }
}

/** Refuses a secret file (admin.key) that other users can read or write, or that another user owns. */
export function checkPrivateFile(path: string): void {
  if (!posix) return;
  const stat = statSync(path);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new FilePermissionError(
      `${path}: owned by uid ${stat.uid}, not this user (uid ${uid}); a key someone else wrote is not trusted: delete it to get a new one, or chown it`,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new FilePermissionError(
      `${path}: mode ${octal(stat.mode)} lets other users read or change the admin key; run: chmod 600 ${path} (or delete it to get a new key)`,
    );
  }
}
