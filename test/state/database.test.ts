import { statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, SchemaTooNewError, SCHEMA_VERSION } from '../../src/state/database.ts';
import { MIGRATIONS, type Migration } from '../../src/state/migrations.ts';
import { tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
afterEach(() => dir?.remove());

describe('openDatabase', () => {
  it('creates the data dir (0700) and applies every migration to an empty database', () => {
    dir = tempDir();
    const dataDir = join(dir.path, 'nested', 'data');
    const database = openDatabase(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(database.path).toBe(join(dataDir, 'caxton.db'));
    expect(database.schemaVersion).toBe(SCHEMA_VERSION);
    expect(database.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(database.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(database.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(database.db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    const tables = database.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(
      expect.arrayContaining(['node_identity', 'modules', 'agents', 'agent_versions', 'api_keys', 'audit_log', 'dead_letters', 'conversation_segments']),
    );
    database.close();
  });

  it('reopens an existing database without re-applying migrations, and keeps its rows', () => {
    dir = tempDir();
    const first = openDatabase(dir.path);
    first.db.prepare("INSERT INTO dead_letters (id, ts, reason, message) VALUES (1, 'now', 'R', '{}')").run();
    first.close();
    first.close(); // idempotent
    const second = openDatabase(dir.path);
    expect(second.db.prepare('SELECT count(*) FROM dead_letters').pluck().get()).toBe(1);
    second.close();
  });

  it('applies only the missing steps to an older database', () => {
    dir = tempDir();
    openDatabase(dir.path).close();
    const next: Migration[] = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, name: 'add t', sql: 'CREATE TABLE t (x)' }];
    const upgraded = openDatabase(dir.path, { migrations: next });
    expect(upgraded.schemaVersion).toBe(SCHEMA_VERSION + 1);
    expect(upgraded.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 't'").pluck().get()).toBe(1);
    upgraded.close();
  });

  it('rolls back a failing migration as a whole and leaves the version where it was', () => {
    dir = tempDir();
    openDatabase(dir.path).close();
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, name: 'half', sql: 'CREATE TABLE half (x); CREATE TABLE half (y);' },
    ];
    expect(() => openDatabase(dir.path, { migrations: broken })).toThrow(/already exists/);
    const database = openDatabase(dir.path);
    expect(database.schemaVersion).toBe(SCHEMA_VERSION);
    expect(database.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    database.close();
  });

  it('refuses a database written by a newer Caxton, naming both versions', () => {
    dir = tempDir();
    openDatabase(dir.path).close();
    const raw = new BetterSqlite3(join(dir.path, 'caxton.db'));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => openDatabase(dir.path)).toThrow(SchemaTooNewError);
    expect(() => openDatabase(dir.path)).toThrow(`schema version ${SCHEMA_VERSION + 5}, but this Caxton understands up to ${SCHEMA_VERSION}`);
  });

  it('runs close hooks (buffer flushes) before checkpointing and closing', () => {
    dir = tempDir();
    const database = openDatabase(dir.path);
    const calls: string[] = [];
    database.onClose(() => {
      database.db.prepare("INSERT INTO dead_letters (id, ts, reason, message) VALUES (7, 'now', 'R', '{}')").run();
      calls.push('hook');
    });
    database.close();
    expect(calls).toEqual(['hook']);
    const again = openDatabase(dir.path);
    expect(again.db.prepare('SELECT id FROM dead_letters').pluck().all()).toEqual([7]);
    again.close();
  });
});
