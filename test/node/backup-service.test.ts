// Scheduled backups: named by time, the newest backup.keep kept, one copy at a time; and the backup file check.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BackupService } from '../../src/node/backup-service.ts';
import { openNodeState, type NodeState } from '../../src/state/node-state.ts';
import { checkBackupFile, restoreDatabase } from '../../src/state/database-backup.ts';
import { tempDir } from '../state/helpers.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function fixture(): { state: NodeState; dir: string } {
  const dir = tempDir();
  const state = openNodeState({ dataDir: join(dir.path, 'data'), nodeId: 'n1' });
  cleanups.push(() => {
    state.close();
    dir.remove();
  });
  return { state, dir: dir.path };
}

describe('BackupService', () => {
  it('writes time-named backups into backup.dir and keeps the newest backup.keep', async () => {
    const { state, dir } = fixture();
    let t = Date.parse('2026-01-01T00:00:00Z');
    const service = new BackupService({
      db: state.database.db,
      dataDir: state.database.dataDir,
      intervalMs: 0,
      keep: 2,
      dir: join(dir, 'backups'),
      logger: pino({ level: 'silent' }),
      now: () => new Date((t += 60_000)),
    });
    for (let i = 0; i < 4; i++) expect(await service.runScheduled()).toBeDefined();
    expect(readdirSync(join(dir, 'backups'))).toEqual(['caxton-20260101T000300.000Z.db', 'caxton-20260101T000400.000Z.db']);
    expect(checkBackupFile(join(dir, 'backups', 'caxton-20260101T000400.000Z.db'))).toMatchObject({ nodeId: 'n1', apiKeys: 1 });
  });

  it('takes one copy at a time: a second request while one runs is refused with CONFLICT', async () => {
    const { state } = fixture();
    const service = new BackupService({ db: state.database.db, dataDir: state.database.dataDir, intervalMs: 0, keep: 1, logger: pino({ level: 'silent' }) });
    const first = service.snapshot();
    await expect(service.snapshot()).rejects.toMatchObject({ code: 'CONFLICT' });
    const snapshot = await first;
    expect(snapshot.bytes).toBeGreaterThan(0);
    snapshot.release();
    (await service.snapshot()).release();
    expect(readdirSync(state.database.dataDir).filter((f) => f.startsWith('.backup-'))).toEqual([]);
  });

  it('close waits for a copy under way, then refuses new ones; leftovers of a crash are removed at start', async () => {
    const { state } = fixture();
    writeFileSync(join(state.database.dataDir, '.backup-crashed.tmp'), 'half a copy');
    const service = new BackupService({ db: state.database.db, dataDir: state.database.dataDir, intervalMs: 0, keep: 1, logger: pino({ level: 'silent' }) });
    expect(readdirSync(state.database.dataDir).filter((f) => f.startsWith('.backup-'))).toEqual([]);
    const copying = service.snapshot();
    await service.close();
    (await copying).release();
    await expect(service.snapshot()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await service.runScheduled()).toBeUndefined();
  });
});

describe('checkBackupFile / restoreDatabase', () => {
  it('refuses a SQLite file of another program and leaves no data dir behind', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const other = join(dir.path, 'other.db');
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(() => checkBackupFile(other)).toThrow(/not a Caxton backup \(no node_identity/);
    writeFileSync(join(dir.path, 'garbage'), Buffer.alloc(100, 7));
    expect(() => restoreDatabase(join(dir.path, 'garbage'), join(dir.path, 'new'))).toThrow(/not a SQLite database/);
    expect(readdirSync(dir.path).sort()).toEqual(['garbage', 'other.db']);
  });

  it('with --force replaces the database, removes the old node\'s conversation history and keeps admin.key', () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const source = openNodeState({ dataDir: join(dir.path, 'source'), nodeId: 'n1' });
    source.close();
    const target = join(dir.path, 'target');
    openNodeState({ dataDir: target, nodeId: 'old' }).close();
    for (const file of ['conversations.db', 'conversations.db-wal']) writeFileSync(join(target, file), 'old history');
    restoreDatabase(join(dir.path, 'source', 'caxton.db'), target, { force: true });
    expect(readdirSync(target).sort()).toEqual(['admin.key', 'caxton.db']);
  });
});
