// Issue 10, finding 7: caxton.db-wal and -shm were created 0644 (under umask 022); an existing 0777 data dir
// was used without a word; an admin.key written 0644 by someone else was accepted.
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePermissionError } from '../../src/state/file-permissions.ts';
import { openNodeState } from '../../src/state/node-state.ts';
import { tempDir } from '../state/helpers.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  dir?.remove();
  dir = undefined;
});

describe.skipIf(process.platform === 'win32')('file modes of the data dir', () => {
  it('creates the data dir 0700 and the database, its WAL and its shared memory 0600 under umask 022', () => {
    dir = tempDir();
    const dataDir = join(dir.path, 'data');
    const previous = process.umask(0o022);
    try {
      const state = openNodeState({ dataDir });
      state.apiKeys.create('viewer', 'a-write');
      expect(mode(dataDir)).toBe(0o700);
      for (const file of ['caxton.db', 'caxton.db-wal', 'caxton.db-shm', 'admin.key']) {
        expect(existsSync(join(dataDir, file)), file).toBe(true);
        expect(mode(join(dataDir, file)), file).toBe(0o600);
      }
      state.close();
    } finally {
      process.umask(previous);
    }
  });

  it('refuses a world-writable data dir with one line naming it and the fix', () => {
    dir = tempDir();
    const dataDir = join(dir.path, 'open');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o777);
    expect(() => openNodeState({ dataDir })).toThrow(FilePermissionError);
    expect(() => openNodeState({ dataDir })).toThrow(
      `${dataDir}: data dir is world-writable (mode 0777), so any user could replace the node's database or admin key; run: chmod 700 ${dataDir}`,
    );
    expect(existsSync(join(dataDir, 'caxton.db'))).toBe(false);
  });

  it('refuses an admin.key written 0644 by someone else', () => {
    dir = tempDir();
    const dataDir = join(dir.path, 'data');
    openNodeState({ dataDir }).close();
    const key = join(dataDir, 'admin.key');
    writeFileSync(key, 'cxk_planted\n', { mode: 0o644 });
    chmodSync(key, 0o644);
    expect(() => openNodeState({ dataDir })).toThrow(/admin\.key: mode 0644 lets other users read or change the admin key; run: chmod 600 /);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses an admin.key owned by another user, even at 0600 (needs root to chown: skipped otherwise)', () => {
    dir = tempDir();
    const dataDir = join(dir.path, 'data');
    openNodeState({ dataDir }).close();
    const key = join(dataDir, 'admin.key');
    chownSync(key, 65534, 65534);
    expect(() => openNodeState({ dataDir })).toThrow(/admin\.key: owned by uid 65534, not this user \(uid 0\)/);
  });
});
