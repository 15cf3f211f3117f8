// The group-committed, bounded logs: audit, dead letters, conversations.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/state/audit-log.ts';
import { rememberSpliced, wireTextOf } from '../../src/agents/wire-text.ts';
import { ConversationStore } from '../../src/state/conversation-store.ts';
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

describe('conversation store', () => {
  it('writes the text a message was delivered as when it has one, and reads back the same messages', () => {
    const store = new ConversationStore(database, { maxMessages: 1000, maxAgeMs: 60_000, ...batch });
    const delivered = message('c1', 1);
    wireTextOf(delivered, true);
    // An agent's own text, spliced (wire-text.ts): its spacing is its own, its value the message's.
    const spaced = message('c1', 2);
    const agentText = '{"performative": "inform", "sender": "alice", "receiver": "bob", "content": {"n": 2}, "conversation_id": "c1"}';
    rememberSpliced(spaced, agentText, agentText.lastIndexOf('}'), ',"message_id":"c1-2"', true);
    // A newline in it would break one message per line: serialized instead.
    const multiline = message('c1', 3);
    const multilineText = '{"performative":"inform",\n"sender":"alice","receiver":"bob","content":{"n":3},"conversation_id":"c1"}';
    rememberSpliced(multiline, multilineText, multilineText.lastIndexOf('}'), ',"message_id":"c1-3"', true);
    // Tracing may replace a trace_context after the text was made: serialized instead.
    const traced = message('c1', 4, { trace_context: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    rememberSpliced(traced, '{"stale":true}', 13, '', true);
    for (const m of [delivered, spaced, multiline, traced]) store.append(m);
    store.flush();
    database.close();
    database = openDatabase(dir.path);
    const reopened = new ConversationStore(database, { maxMessages: 1000, maxAgeMs: 60_000, ...batch });
    expect(reopened.list('c1')).toEqual([delivered, spaced, multiline, traced]);
    const blob = (database.db.prepare('SELECT messages FROM conversation_segments').pluck().get() as Buffer).toString('utf8');
    expect(blob.split('\n')).toEqual([JSON.stringify(delivered), `${agentText.slice(0, -1)},"message_id":"c1-2"}`, JSON.stringify(multiline), JSON.stringify(traced)]);
  });

  it('lists a conversation oldest first, merging written and buffered messages, and keeps it after a reopen', () => {
    let store = new ConversationStore(database, { maxMessages: 1000, maxAgeMs: 60_000, ...batch });
    store.append(message('c1', 1));
    store.append(message('c2', 1));
    store.append(message('c1', 2));
    store.flush();
    store.append(message('c1', 3));
    expect(store.list('c1').map((m) => m.message_id)).toEqual(['c1-1', 'c1-2', 'c1-3']);
    expect(store.list('c1', { limit: 2 }).map((m) => m.message_id)).toEqual(['c1-2', 'c1-3']);
    expect(store.list('nobody')).toEqual([]);
    database.close();
    database = openDatabase(dir.path);
    store = new ConversationStore(database, { maxMessages: 1000, maxAgeMs: 60_000, ...batch });
    expect(store.list('c1')).toEqual([message('c1', 1), message('c1', 2), message('c1', 3)]);
    store.append(message('c1', 4));
    expect(store.list('c1').map((m) => m.message_id)).toEqual(['c1-1', 'c1-2', 'c1-3', 'c1-4']);
  });

  it('keeps at most maxMessages messages, dropping whole segments from the oldest', () => {
    const store = new ConversationStore(database, { maxMessages: 10, maxAgeMs: 60_000, flushIntervalMs: 60_000, maxBatch: 5 });
    for (let i = 0; i < 25; i++) store.append(message('c', i)); // a flush every 5 messages
    expect(rows('conversation_segments')).toBe(2);
    expect(store.size()).toBe(10);
    expect(store.list('c').map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => ({ n: i + 15 })));
    // The index forgets dropped messages too: a conversation entirely dropped lists nothing.
    store.append(message('gone', 1));
    store.flush();
    for (let i = 0; i < 15; i++) store.append(message('d', i));
    store.flush();
    expect(store.list('gone')).toEqual([]);
    expect(store.list('c')).toEqual([]);
  });

  it('drops messages older than maxAgeMs (hidden at once, deleted at the next write or start)', () => {
    let now = 1_000_000;
    const options = { maxMessages: 1000, maxAgeMs: 10_000, ...batch, nowMs: () => now };
    let store = new ConversationStore(database, options);
    store.append(message('old', 1));
    store.flush();
    now += 6_000;
    store.append(message('new', 1));
    store.flush();
    now += 5_000; // 'old' is 11 s old, 'new' 5 s
    expect(store.list('old')).toEqual([]);
    expect(store.list('new')).toHaveLength(1);
    store.append(message('newer', 1));
    store.flush();
    expect(database.db.prepare('SELECT conversation_ids FROM conversation_segments ORDER BY id').pluck().all()).toEqual([
      '["new"]',
      '["newer"]',
    ]);
    now += 20_000;
    database.close();
    database = openDatabase(dir.path);
    store = new ConversationStore(database, options);
    expect(rows('conversation_segments')).toBe(0);
    expect(store.list('newer')).toEqual([]);
  });

  it('keeps a segment larger than the kept write buffer intact, then goes on with small ones', () => {
    const options = { maxMessages: 100, maxAgeMs: 60_000, ...batch };
    let store = new ConversationStore(database, options);
    // ~1.5 MiB of UTF-16 units, a third of them outside ASCII: past the 4 MiB worst-case estimate.
    const big = message('big', 1, { content: { text: 'é✓a'.repeat(500_000) } });
    const small = message('small', 1, { content: 'héllo' });
    store.append(big);
    store.append(message('big', 2));
    store.flush();
    store.append(small);
    store.flush();
    expect(store.list('big')).toEqual([big, message('big', 2)]);
    expect(store.list('small')).toEqual([small]);
    database.close();
    database = openDatabase(dir.path);
    store = new ConversationStore(database, options);
    expect(store.list('big')).toEqual([big, message('big', 2)]);
    expect(store.list('small')).toEqual([small]);
  });

  it('keeps messages whose content holds newlines and odd characters intact', () => {
    const options = { maxMessages: 100, maxAgeMs: 60_000, ...batch };
    let store = new ConversationStore(database, options);
    const odd = message('c', 1, { content: { text: 'line 1\nline 2\r\n\u2028 \u0000 "quoted" héllo 🦀 日本' } });
    store.append(odd);
    store.append(message('x', 1, { content: '🦀🦀' }));
    store.append(message('c', 2));
    store.flush();
    expect(store.list('c')).toEqual([odd, message('c', 2)]);
    // The index is rebuilt from the stored byte lengths after a restart.
    database.close();
    database = openDatabase(dir.path);
    store = new ConversationStore(database, options);
    expect(store.list('c')).toEqual([odd, message('c', 2)]);
    expect(store.list('x')).toEqual([message('x', 1, { content: '🦀🦀' })]);
  });
});
