// Issue 10, finding 3 (retention): the audit log had one budget of 100,000 rows for everything, so any flood of
// requests or denials pushed out who created or revoked a key. Each category now has its own budget by rows and
// by age.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/state/audit-log.ts';
import { openDatabase, type Database as CaxtonDatabase } from '../../src/state/database.ts';
import { MIGRATIONS } from '../../src/state/migrations.ts';
import { tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
let database: CaxtonDatabase;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  database?.close();
  dir.remove();
});

const batch = { flushIntervalMs: 60_000, maxBatch: 1000 };
const DAY = 24 * 60 * 60 * 1000;

describe('audit retention', () => {
  it('a flood of requests and denials never pushes out the security events', () => {
    database = openDatabase(dir.path);
    const audit = new AuditLog(database, { maxRows: 50, maxDenialRows: 20, maxSecurityRows: 10, ...batch });
    audit.append({ principal: 'admin', action: 'POST /api/v1/security/api-keys', target: 'ci', outcome: 'ok', category: 'security' });
    for (let i = 0; i < 500; i++) {
      audit.append({ principal: 'unauthenticated', action: 'GET /api/v1/agents', outcome: 'denied', category: 'denial', details: { i } });
      audit.append({ principal: 'ci', action: 'PUT /api/v1/agents/:name', target: `a${i}`, outcome: 'ok' });
    }
    audit.flush();
    const rows = audit.list(1000);
    expect(rows.filter((r) => r.category === 'security')).toEqual([expect.objectContaining({ target: 'ci', principal: 'admin' })]);
    expect(rows.filter((r) => r.category === 'denial')).toHaveLength(20);
    expect(rows.filter((r) => r.category === undefined)).toHaveLength(50);
    // The newest of each category are the ones kept.
    expect(rows.find((r) => r.category === undefined)?.target).toBe('a499');
  });

  it('rows older than their category allows go; security rows are kept longer', () => {
    database = openDatabase(dir.path);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const options = { maxRows: 1000, maxAgeMs: 90 * DAY, maxSecurityAgeMs: 730 * DAY, ...batch, now: () => new Date(now) };
    let audit = new AuditLog(database, options);
    audit.append({ principal: 'admin', action: 'DELETE /api/v1/security/api-keys/:name', target: 'old', outcome: 'ok', category: 'security' });
    audit.append({ principal: 'ci', action: 'POST /api/v1/agents', target: 'old-agent', outcome: 'ok' });
    audit.flush();
    now += 100 * DAY;
    audit = new AuditLog(database, options); // a restart prunes at once
    audit.append({ principal: 'ci', action: 'POST /api/v1/agents', target: 'new-agent', outcome: 'ok' });
    audit.flush();
    expect(audit.list(10).map((r) => r.target)).toEqual(['new-agent', 'old']);
    now += 700 * DAY;
    audit = new AuditLog(database, options);
    expect(audit.list(10)).toEqual([]);
  });

  it('migrating a version-1 database sorts its existing rows into categories', () => {
    const raw = new Database(join(dir.path, 'caxton.db'));
    raw.exec(MIGRATIONS[0].sql);
    raw.pragma('user_version = 1');
    const insert = raw.prepare('INSERT INTO audit_log (ts, principal, action, target, outcome) VALUES (?, ?, ?, ?, ?)');
    insert.run('2026-01-01T00:00:00.000Z', 'admin', 'POST /api/v1/security/api-keys', 'ci', 'ok');
    insert.run('2026-01-01T00:00:01.000Z', 'unauthenticated', 'GET /api/v1/agents', null, 'denied');
    insert.run('2026-01-01T00:00:02.000Z', 'ci', 'POST /api/v1/agents', 'echo', 'ok');
    raw.close();
    database = openDatabase(dir.path);
    const audit = new AuditLog(database, { maxRows: 1000, ...batch });
    expect(audit.list(10).map((r) => [r.principal, r.category ?? 'request'])).toEqual([
      ['ci', 'request'],
      ['unauthenticated', 'denial'],
      ['admin', 'security'],
    ]);
  });
});
