// GET /api/v1/backup with a fake node: admin only, the file streamed with its headers, the temporary copy
// released however the response ends, the read audited with the security events, 503 when not wired.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { BackupServices } from '../../src/api/backup-services.ts';
import { bearer, makeApi } from './helpers.ts';

function fakeBackups(): BackupServices & { released: number } {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-backup-route-'));
  const fake = {
    released: 0,
    busy: false,
    async snapshot() {
      if (fake.busy) throw new CaxtonError('CONFLICT', 'a backup of this node is being taken');
      const path = join(dir, 'copy.db');
      writeFileSync(path, 'SQLite format 3\0 and the rest');
      return { path, bytes: 30, release: () => void fake.released++ };
    },
  };
  return fake;
}

describe('GET /api/v1/backup', () => {
  it('streams the copy to admin, audits it, and releases the copy', async () => {
    const backups = fakeBackups();
    const { app, services } = makeApi({ backups });
    const res = await app.inject({ url: '/api/v1/backup', headers: bearer('admin-key') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.sqlite3');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="caxton-.*\.db"$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toBe('SQLite format 3\0 and the rest');
    expect(backups.released).toBeGreaterThanOrEqual(1);
    expect(services.audits.find((a) => a.action === 'GET /api/v1/backup')).toMatchObject({ outcome: 'ok', category: 'security' });
  });

  it('is refused to every other role', async () => {
    const { app } = makeApi({ backups: fakeBackups() });
    for (const key of ['viewer-key', 'operator-key']) {
      const res = await app.inject({ url: '/api/v1/backup', headers: bearer(key) });
      expect(res.statusCode, key).toBe(403);
    }
  });

  it('answers 409 while another copy is taken, 503 when the node has no backups', async () => {
    const backups = fakeBackups();
    (backups as unknown as { busy: boolean }).busy = true;
    expect((await makeApi({ backups }).app.inject({ url: '/api/v1/backup', headers: bearer('admin-key') })).statusCode).toBe(409);
    expect((await makeApi().app.inject({ url: '/api/v1/backup', headers: bearer('admin-key') })).statusCode).toBe(503);
  });
});
