// Backups of this node's database: on request (GET /api/v1/backup streams one) and on a schedule
// (backup.interval_ms into backup.dir, keeping the newest backup.keep). One copy at a time: each costs a
// whole database of disk and a share of the event loop, so a second request while one runs gets CONFLICT
// rather than a queue, and a scheduled one that finds a copy running skips its turn.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupServices, BackupSnapshot } from '../api/backup-services.ts';
import { CaxtonError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { backupDatabase } from '../state/database-backup.ts';
import { HISTORY_DATABASE_FILE } from '../state/history-database.ts';
import type { SqliteDatabase } from '../state/database.ts';

/** Scheduled backups are named so that their names sort by time. */
const SCHEDULED_PREFIX = 'caxton-';
const SCHEDULED_SUFFIX = '.db';

export interface BackupServiceOptions {
  db: SqliteDatabase;
  dataDir: string;
  /** backup.interval_ms: 0 = no scheduled backups. */
  intervalMs: number;
  /** backup.keep: scheduled backups kept, the oldest deleted past it. */
  keep: number;
  /** backup.dir: unset = <data_dir>/backups. */
  dir?: string;
  logger: Logger;
  now?: () => Date;
}

export class BackupService implements BackupServices {
  readonly #o: BackupServiceOptions;
  readonly #dir: string;
  /** The conversation history's file, copied into each backup (see backupDatabase). */
  readonly #historyFile: string;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: BackupServiceOptions) {
    this.#o = options;
    this.#dir = options.dir ?? join(options.dataDir, 'backups');
    this.#historyFile = join(options.dataDir, HISTORY_DATABASE_FILE);
    // Copies a crash left behind (a process killed mid-copy never reached its cleanup).
    for (const [dir, leftover] of [[options.dataDir, /^\.backup-.*\.tmp$/], [this.#dir, /^caxton-.*\.db\.partial$/]] as const) {
      try {
        for (const name of readdirSync(dir)) if (leftover.test(name)) rmSync(join(dir, name), { force: true });
      } catch {
        /* no such dir yet */
      }
    }
  }

  /** Where scheduled backups go. */
  get dir(): string {
    return this.#dir;
  }

  start(): void {
    if (this.#o.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.runScheduled(), this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Stops the schedule; resolves once a copy under way has finished (the database must outlive it). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async snapshot(): Promise<BackupSnapshot> {
    // In the data dir: private (0700), and on the same disk as the database the copy is the size of.
    const path = join(this.#o.dataDir, `.backup-${randomUUID()}.tmp`);
    await this.#exclusive(() => backupDatabase(this.#o.db, path, this.#historyFile));
    let released = false;
    return {
      path,
      bytes: statSync(path).size,
      release: () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      },
    };
  }

  /** One scheduled backup and the pruning after it; answers the file written, or undefined when skipped. */
  async runScheduled(): Promise<string | undefined> {
    if (this.#closed || this.#running) return undefined;
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      // 20260101T000300.000Z: sorts by time, and two backups in one second do not share a name.
      const stamp = (this.#o.now ?? (() => new Date()))().toISOString().replace(/[-:]/g, '');
      const final = join(this.#dir, `${SCHEDULED_PREFIX}${stamp}${SCHEDULED_SUFFIX}`);
      const partial = `${final}.partial`;
      await this.#exclusive(() => backupDatabase(this.#o.db, partial, this.#historyFile));
      renameSync(partial, final);
      this.#prune();
      this.#o.logger.info({ path: final }, 'scheduled backup written');
      return final;
    } catch (error) {
      this.#o.logger.error({ err: error, dir: this.#dir }, 'scheduled backup failed');
      return undefined;
    }
  }

  /** The scheduled backups in backup.dir, oldest first. */
  scheduledBackups(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.startsWith(SCHEDULED_PREFIX) && n.endsWith(SCHEDULED_SUFFIX)).sort().map((n) => join(this.#dir, n));
  }

  #prune(): void {
    const all = this.scheduledBackups();
    for (const old of all.slice(0, Math.max(0, all.length - this.#o.keep))) rmSync(old, { force: true });
  }

  async #exclusive(copy: () => Promise<void>): Promise<void> {
    if (this.#closed) throw new CaxtonError('UNAVAILABLE', 'the node is stopping');
    if (this.#running) throw new CaxtonError('CONFLICT', 'a backup of this node is being taken: try again when it is done');
    const running = copy();
    this.#running = running;
    try {
      await running;
    } finally {
      this.#running = undefined;
    }
  }
}
