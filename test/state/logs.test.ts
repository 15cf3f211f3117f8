// The group-committed, bounded logs: audit and dead letters (the conversation history: conversation-log.test.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/state/audit-log.ts';
import { openDatabase, type Database } from '../../src/state/database.ts';
import { DeadLetterStore } from '../../src/state/dead-letter-store.ts';
import { message, tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
let database: Database;
beforeEach(() => {
  dir = tempDir();
  database = openDatabase(dir.path);
});
afterEach(() => {
  vi.useRealTimers();
  database.close();
  dir.remove();
});

const rows = (table: string) => database.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
// A long interval: nothing is flushed by the timer unless a test asks for it.
const batch = { flushIntervalMs: 60_000, maxBatch: 1000 };

function countCommits(db: Database['db']): { commits: () => number } {
  let commits = 0;
  const original = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const wrapped = original(fn);
    return Object.assign((...args: unknown[]) => {
      commits++;
      return wrapped(...args);
    }, wrapped);
  }) as typeof db.transaction;
  return { commits: () => commits };
}

describe('dead-letter store', () => {
  it('buffers a burst and writes it in one transaction; list sees buffered rows at once', () => {
    const counter = countCommits(database.db);
    const store = new DeadLetterStore(database, { maxRows: 100, ...batch });
    const ids = Array.from({ length: 50 }, (_, i) => store.record(message('c', i), 'AGENT_NOT_FOUND', 'bob'));
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(rows('dead_letters')).toBe(0);
    expect(store.list({ limit: 3 }).map((d) => d.id)).toEqual([50, 49, 48]);
    store.flush();
    expect(counter.commits()).toBe(1);
    expect(rows('dead_letters')).toBe(50);
    const [newest] = store.list({ limit: 1 });
    expect(newest).toMatchObject({ id: 50, reason: 'AGENT_NOT_FOUND', receiver: 'bob', message: message('c', 49) });
  });

  it('flushes on its own after the interval, and at maxBatch rows without waiting', () => {
    vi.useFakeTimers();
    const store = new DeadLetterStore(database, { maxRows: 100, flushIntervalMs: 5, maxBatch: 10 });
    store.record(message('c', 1), 'MAILBOX_FULL');
    expect(rows('dead_letters')).toBe(0);
    vi.advanceTimersByTime(5);
    expect(rows('dead_letters')).toBe(1);
    for (let i = 0; i < 10; i++) store.record(message('c', i), 'MAILBOX_FULL');
    expect(rows('dead_letters')).toBe(11);
  });

  it('keeps at most maxRows, dropping the oldest, and continues ids after a reopen', () => {
    let store = new DeadLetterStore(database, { maxRows: 5, ...batch });
    for (let i = 0; i < 12; i++) store.record(message('c', i), 'R');
    store.flush();
    expect(store.list({ limit: 100 }).map((d) => d.id)).toEqual([12, 11, 10, 9, 8]);
    database.close(); // flushes through the close hook
    database = openDatabase(dir.path);
    store = new DeadLetterStore(database, { maxRows: 5, ...batch });
    expect(store.record(message('c', 99), 'R')).toBe(13);
    expect(store.purge()).toBe(5); // 9..13: the bound holds across the reopen
    expect(store.list()).toEqual([]);
  });

  it('writes on close what is still buffered', () => {
    const store = new DeadLetterStore(database, { maxRows: 5, ...batch });
    store.record(message('c', 1), 'R');
    database.close();
    database = openDatabase(dir.path);
    expect(rows('dead_letters')).toBe(1);
  });
});

describe('audit log', () => {
  it('appends with a timestamp, lists the most recent first, bounded', () => {
    let t = Date.parse('2026-05-01T00:00:00Z');
    const audit = new AuditLog(database, { maxRows: 3, ...batch, now: () => new Date(t++) });
    audit.append({ principal: 'admin', action: 'POST /api/v1/agents', target: 'echo', outcome: 'ok' });
    audit.append({ principal: 'unauthenticated', action: 'DELETE /api/v1/agents/:name', outcome: 'denied', details: { ip: '10.0.0.1' } });
    audit.flush();
    audit.append({ principal: 'ci', action: 'PUT /api/v1/agents/:name', target: 'echo', outcome: 'error' });
    const recent = audit.list(2);
    expect(recent.map((r) => r.principal)).toEqual(['ci', 'unauthenticated']);
    expect(recent[1]).toEqual({
      id: 2,
      ts: '2026-05-01T00:00:00.001Z',
      principal: 'unauthenticated',
      action: 'DELETE /api/v1/agents/:name',
      outcome: 'denied',
      details: { ip: '10.0.0.1' },
    });
    audit.append({ principal: 'x', action: 'a', outcome: 'ok' });
    audit.append({ principal: 'y', action: 'a', outcome: 'ok' });
    audit.flush();
    expect(rows('audit_log')).toBe(3);
    expect(audit.list(10).map((r) => r.principal)).toEqual(['y', 'x', 'ci']);
  });
});
