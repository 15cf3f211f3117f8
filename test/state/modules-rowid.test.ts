// Schema 5 moved the modules table out of WITHOUT ROWID: there a module's bytes lay in its key's b-tree cells,
// so any lookup by sha256 read the stored modules on its search path (44 ms for a sha256 not there, with 4 of
// 15 MiB). A data dir or a backup of schema 4 must come through the move with its modules, agents and versions.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStore } from '../../src/state/agent-store.ts';
import { backupDatabase, checkBackupFile, restoreDatabase } from '../../src/state/database-backup.ts';
import { openDatabase, SCHEMA_VERSION, type Database } from '../../src/state/database.ts';
import { MIGRATIONS } from '../../src/state/migrations.ts';
import { ModuleStore, sha256Hex } from '../../src/state/module-store.ts';
import { spec, tempDir } from './helpers.ts';

/** The last schema before modules moved. */
const RELEASED_VERSION = 4;

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

/** Over a page, so the module's bytes go to overflow pages as a real module's do; distinct per seed. */
function moduleBytes(seed: number, length = 20_000): Buffer {
  return Buffer.alloc(length, seed);
}

/** A data dir at RELEASED_VERSION: three modules, two agents (one upgraded, so with two versions). */
function releasedDataDir(path: string): { shas: string[] } {
  const database = openDatabase(path, { migrations: MIGRATIONS.filter((m) => m.version <= RELEASED_VERSION) });
  try {
    const modules = new ModuleStore(database.db);
    const agents = new AgentStore(database.db);
    const shas = [1, 2, 3].map((seed) => modules.put(moduleBytes(seed)));
    agents.upsert({ spec: spec('alpha'), moduleSha256: shas[0] });
    agents.upsert({ spec: spec('alpha'), moduleSha256: shas[1] });
    agents.upsert({ spec: spec('beta'), moduleSha256: shas[2] });
    return { shas };
  } finally {
    database.close();
  }
}

function withoutRowid(database: Database, table: string): boolean {
  const row = database.db.prepare('SELECT wr FROM pragma_table_list WHERE name = ?').get(table) as { wr: number };
  return row.wr === 1;
}

/** What the stores read back: modules by sha256 and size, agents with their versions. */
function contents(database: Database, shas: string[]) {
  const modules = new ModuleStore(database.db);
  const agents = new AgentStore(database.db);
  return {
    modules: shas.map((sha) => ({ sha, hash: sha256Hex(modules.get(sha) ?? Buffer.alloc(0)), has: modules.has(sha), size: modules.size(sha) })),
    agents: agents.list().map((a) => ({ name: a.spec.name, version: a.version, module: a.module_sha256, versions: agents.versions(a.spec.name).map((v) => [v.version, v.module_sha256]) })),
  };
}

describe('modules in a rowid table (schema 5)', () => {
  it('a data dir of the last release opens with its modules, agents and versions, and modules is a rowid table', () => {
    const { shas } = releasedDataDir(dir.path);
    const database = openDatabase(dir.path);
    try {
      expect(database.schemaVersion).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBeGreaterThan(RELEASED_VERSION);
      expect(withoutRowid(database, 'modules')).toBe(false);
      expect(contents(database, shas)).toEqual({
        modules: shas.map((sha) => ({ sha, hash: sha, has: true, size: 20_000 })),
        agents: [
          { name: 'alpha', version: 2, module: shas[1], versions: [[2, shas[1]], [1, shas[0]]] },
          { name: 'beta', version: 1, module: shas[2], versions: [[1, shas[2]]] },
        ],
      });
      // The references still hold: nothing dangles, and a module in use cannot be deleted under its agent.
      expect(database.db.pragma('foreign_key_check')).toEqual([]);
      expect(() => database.db.prepare('DELETE FROM modules WHERE sha256 = ?').run(shas[2])).toThrow(/FOREIGN KEY/);
      // Deleting an agent still cascades to its versions, and then its modules are unused.
      new AgentStore(database.db).delete('alpha');
      expect(new ModuleStore(database.db).pruneUnused()).toBe(2);
      expect(new ModuleStore(database.db).has(shas[2])).toBe(true);
      // No table of the move is left behind.
      const tables = database.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE '%modules%'").pluck().all();
      expect(tables).toEqual(['modules']);
    } finally {
      database.close();
    }
  });

  it('a new data dir makes the same schema as one moved from the last release', () => {
    releasedDataDir(join(dir.path, 'moved'));
    const schema = (path: string) => {
      const database = openDatabase(path);
      try {
        return database.db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all();
      } finally {
        database.close();
      }
    };
    expect(schema(join(dir.path, 'moved'))).toEqual(schema(join(dir.path, 'new')));
  });

  it('size() is the stored length, undefined for a module not stored; put of the same bytes stores nothing new', () => {
    const database = openDatabase(dir.path);
    try {
      const modules = new ModuleStore(database.db);
      const sha = modules.put(moduleBytes(9, 70_000));
      expect(modules.put(moduleBytes(9, 70_000))).toBe(sha);
      expect(modules.size(sha)).toBe(70_000);
      expect(modules.size('0'.repeat(64))).toBeUndefined();
      expect(modules.has('0'.repeat(64))).toBe(false);
      expect(database.db.prepare('SELECT count(*) FROM modules').pluck().get()).toBe(1);
    } finally {
      database.close();
    }
  });

  it('a backup taken before the move restores, and the node that opens it keeps its modules; one taken after restores too', async () => {
    const source = join(dir.path, 'source');
    const { shas } = releasedDataDir(source);
    const before = openDatabase(source, { migrations: MIGRATIONS.filter((m) => m.version <= RELEASED_VERSION) });
    const expected = contents(before, shas);
    const oldBackup = join(dir.path, 'before.db');
    try {
      await backupDatabase(before.db, oldBackup);
    } finally {
      before.close();
    }
    expect(checkBackupFile(oldBackup)).toMatchObject({ schemaVersion: RELEASED_VERSION, agents: 2 });

    const restored = join(dir.path, 'restored');
    restoreDatabase(oldBackup, restored);
    const moved = openDatabase(restored);
    const newBackup = join(dir.path, 'after.db');
    try {
      expect(withoutRowid(moved, 'modules')).toBe(false);
      expect(contents(moved, shas)).toEqual(expected);
      await backupDatabase(moved.db, newBackup);
    } finally {
      moved.close();
    }
    expect(checkBackupFile(newBackup)).toMatchObject({ schemaVersion: SCHEMA_VERSION, agents: 2 });
    const again = join(dir.path, 'again');
    restoreDatabase(newBackup, again);
    const reopened = openDatabase(again);
    try {
      expect(contents(reopened, shas)).toEqual(expected);
    } finally {
      reopened.close();
    }
  });
});
