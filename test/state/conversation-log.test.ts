// The conversation history: its segments (the storage, synchronous), the line each message is stored as,
// and the log the node uses, whose writes and reads run on the history thread against conversations.db.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rememberSpliced, wireTextOf } from '../../src/messaging/wire-text.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { ConversationLog, openConversationLog } from '../../src/state/conversation-log.ts';
import { ConversationSegments, type HistoryRow } from '../../src/state/conversation-segments.ts';
import { openDatabase } from '../../src/state/database.ts';
import { HISTORY_DATABASE_FILE, openHistoryDatabase } from '../../src/state/history-database.ts';
import { historyTextOf } from '../../src/state/history-text.ts';
import { message, tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

const rowsOf = (messages: AclMessage[], ts = Date.now()): HistoryRow[] =>
  messages.map((m) => ({ ts, conversationId: m.conversation_id, text: historyTextOf(m)! }));
const parsed = (texts: string[]) => texts.map((t) => JSON.parse(t) as AclMessage);

describe('conversation segments', () => {
  const open = (options: { maxMessages: number; maxAgeMs: number; nowMs?: () => number }) => {
    const db = openHistoryDatabase(dir.path);
    return { db, segments: new ConversationSegments(db, options) };
  };

  it('keeps at most maxMessages messages, dropping whole segments from the oldest', () => {
    const { db, segments } = open({ maxMessages: 10, maxAgeMs: 60_000 });
    for (let s = 0; s < 5; s++) segments.write(rowsOf(Array.from({ length: 5 }, (_, i) => message('c', s * 5 + i))));
    expect(db.prepare('SELECT count(*) FROM conversation_segments').pluck().get()).toBe(2);
    expect(segments.size()).toBe(10);
    expect(parsed(segments.texts('c', 100)).map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => ({ n: i + 15 })));
    expect(parsed(segments.texts('c', 3)).map((m) => m.content)).toEqual([{ n: 22 }, { n: 23 }, { n: 24 }]);
    // The index forgets dropped messages too: a conversation entirely dropped lists nothing.
    segments.write(rowsOf([message('gone', 1)]));
    segments.write(rowsOf(Array.from({ length: 10 }, (_, i) => message('d', i))));
    segments.write(rowsOf(Array.from({ length: 5 }, (_, i) => message('d', 10 + i))));
    expect(segments.texts('gone', 100)).toEqual([]);
    expect(segments.texts('c', 100)).toEqual([]);
    db.close();
  });

  it('drops messages older than maxAgeMs (hidden at once, deleted at the next write or start)', () => {
    let now = 1_000_000;
    const options = { maxMessages: 1000, maxAgeMs: 10_000, nowMs: () => now };
    let { db, segments } = open(options);
    segments.write(rowsOf([message('old', 1)], now));
    now += 6_000;
    segments.write(rowsOf([message('new', 1)], now));
    now += 5_000; // 'old' is 11 s old, 'new' 5 s
    expect(segments.texts('old', 100)).toEqual([]);
    expect(segments.texts('new', 100)).toHaveLength(1);
    segments.write(rowsOf([message('newer', 1)], now));
    expect(db.prepare('SELECT conversation_ids FROM conversation_segments ORDER BY id').pluck().all()).toEqual(['["new"]', '["newer"]']);
    now += 20_000;
    db.close();
    ({ db, segments } = open(options));
    expect(db.prepare('SELECT count(*) FROM conversation_segments').pluck().get()).toBe(0);
    expect(segments.texts('newer', 100)).toEqual([]);
    db.close();
  });

  it('keeps a segment larger than the kept write buffer intact, then goes on with small ones, also after a reopen', () => {
    const options = { maxMessages: 100, maxAgeMs: 60_000 };
    let { db, segments } = open(options);
    // ~1.5 MiB of UTF-16 units, a third of them outside ASCII: past the 4 MiB worst-case estimate.
    const big = message('big', 1, { content: { text: 'é✓a'.repeat(500_000) } });
    const small = message('small', 1, { content: 'héllo' });
    segments.write(rowsOf([big, message('big', 2)]));
    segments.write(rowsOf([small]));
    expect(parsed(segments.texts('big', 100))).toEqual([big, message('big', 2)]);
    expect(parsed(segments.texts('small', 100))).toEqual([small]);
    db.close();
    ({ db, segments } = open(options));
    expect(parsed(segments.texts('big', 100))).toEqual([big, message('big', 2)]);
    expect(parsed(segments.texts('small', 100))).toEqual([small]);
    db.close();
  });

  it('keeps messages whose content holds newlines and odd characters intact; the index comes back from the byte lengths', () => {
    const options = { maxMessages: 100, maxAgeMs: 60_000 };
    let { db, segments } = open(options);
    const odd = message('c', 1, { content: { text: 'line 1\nline 2\r\n\u2028 \u0000 "quoted" héllo 🦀 日本' } });
    segments.write(rowsOf([odd, message('x', 1, { content: '🦀🦀' }), message('c', 2)]));
    expect(parsed(segments.texts('c', 100))).toEqual([odd, message('c', 2)]);
    db.close();
    ({ db, segments } = open(options));
    expect(parsed(segments.texts('c', 100))).toEqual([odd, message('c', 2)]);
    expect(parsed(segments.texts('x', 100))).toEqual([message('x', 1, { content: '🦀🦀' })]);
    db.close();
  });
});

describe('historyTextOf', () => {
  it('stores the text a message was delivered as when it has one, else serializes it, always on one line', () => {
    const delivered = message('c1', 1);
    const deliveredText = wireTextOf(delivered, true);
    expect(historyTextOf(delivered)).toBe(deliveredText);
    // An agent's own text, spliced (wire-text.ts): its spacing is its own, its value the message's.
    const spaced = message('c1', 2);
    const agentText = '{"performative": "inform", "sender": "alice", "receiver": "bob", "content": {"n": 2}, "conversation_id": "c1"}';
    rememberSpliced(spaced, agentText, agentText.lastIndexOf('}'), ',"message_id":"c1-2"', true);
    expect(historyTextOf(spaced)).toBe(`${agentText.slice(0, -1)},"message_id":"c1-2"}`);
    // A newline in it would break one message per line: serialized instead.
    const multiline = message('c1', 3);
    const multilineText = '{"performative":"inform",\n"sender":"alice","receiver":"bob","content":{"n":3},"conversation_id":"c1"}';
    rememberSpliced(multiline, multilineText, multilineText.lastIndexOf('}'), ',"message_id":"c1-3"', true);
    expect(historyTextOf(multiline)).toBe(JSON.stringify(multiline));
    // Tracing may replace a trace_context after the text was made: serialized instead.
    const traced = message('c1', 4, { trace_context: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    rememberSpliced(traced, '{"stale":true}', 13, '', true);
    expect(historyTextOf(traced)).toBe(JSON.stringify(traced));
    for (const m of [delivered, spaced, multiline, traced]) expect(JSON.parse(historyTextOf(m)!)).toEqual(m);
  });
});

describe('conversation log (on the history thread)', () => {
  const options = (extra: Partial<ConstructorParameters<typeof ConversationLog>[0]> = {}) => ({
    dataDir: dir.path,
    maxMessages: 1000,
    maxAgeMs: 60_000,
    flushIntervalMs: 60_000,
    maxBatch: 1000,
    maxQueuedRows: 64_000,
    ...extra,
  });

  it('lists a conversation oldest first, merging stored and buffered messages, and keeps it in its own 0600 file after a reopen', async () => {
    const main = openDatabase(dir.path);
    let { log } = openConversationLog(main.db, options());
    log.append(message('c1', 1));
    log.append(message('c2', 1));
    log.append(message('c1', 2));
    log.flush();
    log.append(message('c1', 3));
    expect((await log.list('c1')).map((m) => m.message_id)).toEqual(['c1-1', 'c1-2', 'c1-3']);
    expect((await log.list('c1', { limit: 2 })).map((m) => m.message_id)).toEqual(['c1-2', 'c1-3']);
    expect((await log.list('c1', { limit: 1 })).map((m) => m.message_id)).toEqual(['c1-3']);
    expect(await log.list('nobody')).toEqual([]);
    await log.close();
    expect(statSync(join(dir.path, HISTORY_DATABASE_FILE)).mode & 0o777).toBe(0o600);
    ({ log } = openConversationLog(main.db, options()));
    expect(await log.list('c1')).toEqual([message('c1', 1), message('c1', 2), message('c1', 3)]);
    log.append(message('c1', 4));
    expect((await log.list('c1')).map((m) => m.message_id)).toEqual(['c1-1', 'c1-2', 'c1-3', 'c1-4']);
    await log.close();
    main.close();
  });

  it('moves the history an older Caxton kept in caxton.db into conversations.db, once', async () => {
    const main = openDatabase(dir.path);
    // What an older Caxton wrote: the same segments, in caxton.db's own table (its migration 1).
    new ConversationSegments(main.db, { maxMessages: 1000, maxAgeMs: 60_000 }).write(rowsOf([message('old', 1), message('old', 2)]));
    const opened = openConversationLog(main.db, options());
    expect(opened.movedSegments).toBe(1);
    expect(main.db.prepare('SELECT count(*) FROM conversation_segments').pluck().get()).toBe(0);
    expect(await opened.log.list('old')).toEqual([message('old', 1), message('old', 2)]);
    await opened.log.close();
    const again = openConversationLog(main.db, options());
    expect(again.movedSegments).toBe(0);
    expect(await again.log.list('old')).toEqual([message('old', 1), message('old', 2)]);
    await again.log.close();
    main.close();
  });

  it('bounds what waits for the history thread: a batch past maxQueuedRows is dropped and counted', async () => {
    const main = openDatabase(dir.path);
    const errors: [string, number][] = [];
    const { log } = openConversationLog(
      main.db,
      options({ maxBatch: 2, maxQueuedRows: 3, onError: (error, dropped) => errors.push([String(error), dropped]) }),
    );
    // The thread answers on the event loop, so within this turn nothing it was sent counts as stored yet. The
    // drops are reported at once the first time, then at most once a second, together.
    for (let i = 0; i < 6; i++) log.append(message('c', i));
    expect(errors).toEqual([[expect.stringMatching(/history thread was 2 messages behind \(bound 3\): 2 dropped/), 2]]);
    expect((await log.list('c')).map((m) => m.content)).toEqual([{ n: 0 }, { n: 1 }]);
    // Once the thread caught up, batches go through again.
    log.append(message('c', 6));
    log.append(message('c', 7));
    expect((await log.list('c')).map((m) => m.content)).toEqual([{ n: 0 }, { n: 1 }, { n: 6 }, { n: 7 }]);
    // What was not reported yet is, at close.
    await log.close();
    expect(errors.at(-1)).toEqual([expect.stringMatching(/: 2 dropped/), 2]);
    main.close();
  });

  it('writes on close what is still buffered; appends after close are ignored', async () => {
    const main = openDatabase(dir.path);
    const { log } = openConversationLog(main.db, options());
    log.append(message('c', 1));
    await log.close();
    log.append(message('c', 2));
    const db = new BetterSqlite3(join(dir.path, HISTORY_DATABASE_FILE), { readonly: true });
    expect(db.prepare('SELECT conversation_ids FROM conversation_segments').pluck().all()).toEqual(['["c"]']);
    db.close();
    main.close();
  });

  it('starts the thread again when it exits: reads in progress fail UNAVAILABLE, stored history stays; after 4 exits in 10 s it stays off', async () => {
    const main = openDatabase(dir.path);
    const errors: string[] = [];
    const { log } = openConversationLog(
      main.db,
      options({ entry: new URL('./fixtures/crashing-history-entry.mjs', import.meta.url), onError: (error) => errors.push(String(error)) }),
    );
    log.append(message('a', 1));
    log.flush();
    expect(await log.list('a')).toEqual([message('a', 1)]);
    await expect(log.list('crash')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await log.list('a')).toEqual([message('a', 1)]);
    log.append(message('a', 2));
    expect((await log.list('a')).map((m) => m.content)).toEqual([{ n: 1 }, { n: 2 }]);
    for (let i = 0; i < 3; i++) await expect(log.list('crash')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(errors.at(-1)).toMatch(/history thread exited 4 times in 10 s; history is off until a restart/);
    await expect(log.list('a')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    log.append(message('a', 3));
    await log.close();
    main.close();
  });
});

