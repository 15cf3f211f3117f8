// Review finding: the conversation history was bounded in messages (100,000) and age (24 h) only, and a message
// may be 1 MiB: one client sending 1 MiB messages to any agent grew conversations.db by ~20 MB/s here, towards
// 100 GB. It is now bounded in bytes too (state.conversation_max_bytes), whole segments from the oldest.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AclMessage } from '../../src/messaging/message.ts';
import { openConversationLog } from '../../src/state/conversation-log.ts';
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

const big = (conversation: string, n: number): AclMessage => message(conversation, n, { content: 'x'.repeat(100_000) });
const rowsOf = (messages: AclMessage[]): HistoryRow[] =>
  messages.map((m) => ({ ts: Date.now(), conversationId: m.conversation_id, text: historyTextOf(m)! }));

describe('conversation history bytes', () => {
  it('keeps at most maxBytes of messages, dropping whole segments from the oldest, and at start', () => {
    let db = openHistoryDatabase(dir.path);
    let segments = new ConversationSegments(db, { maxMessages: 100_000, maxBytes: 1_000_000, maxAgeMs: 60_000 });
    segments.write(rowsOf([message('small', 1)]));
    for (let i = 0; i < 30; i++) segments.write(rowsOf([big('flood', 2 * i), big('flood', 2 * i + 1)]));
    expect(segments.bytes()).toBeLessThanOrEqual(1_000_000);
    expect(segments.texts('small', 10)).toEqual([]);
    expect(segments.texts('flood', 100)).toHaveLength(8);
    const stored = db.prepare('SELECT sum(length(messages)) FROM conversation_segments').pluck().get() as number;
    expect(stored).toBe(segments.bytes());
    db.close();
    // A lowered bound applies when the history opens again.
    db = openHistoryDatabase(dir.path);
    segments = new ConversationSegments(db, { maxMessages: 100_000, maxBytes: 300_000, maxAgeMs: 60_000 });
    expect(segments.texts('flood', 100)).toHaveLength(2);
    expect(db.prepare('SELECT count(*) FROM conversation_segments').pluck().get()).toBe(1);
    db.close();
  });

  it('the history thread holds conversations.db to maxBytes', async () => {
    const main = openDatabase(dir.path);
    const { log } = openConversationLog(main.db, { dataDir: dir.path, maxMessages: 100_000, maxBytes: 2_000_000, maxAgeMs: 60_000, flushIntervalMs: 5, maxBatch: 10 });
    for (let i = 0; i < 200; i++) {
      log.append(big(`c${i % 7}`, i));
      if (i % 10 === 9) log.flush();
    }
    // A read is answered after every batch posted before it is stored.
    const last = await log.list('c3');
    expect(last.length).toBeLessThanOrEqual(3);
    await log.close();
    main.close();
    const size = statSync(join(dir.path, HISTORY_DATABASE_FILE)).size;
    expect(size).toBeLessThan(4_000_000);
  });
});

// Review finding: what was posted to the history thread and not yet stored was bounded in messages only (64 ×
// flush_max_rows = 64,000): of up to 1 MiB each. 400 client sends of 1 MiB left the thread ~14 s and ~300 MB
// behind here. It is bounded in text too (QUEUED_BYTES_MAX); past it a batch is dropped and reported.
describe('history queue bytes', () => {
  it('drops batches past maxQueuedBytes while the thread is behind, and says how many', async () => {
    const main = openDatabase(dir.path);
    const errors: { message: string; dropped: number }[] = [];
    const { log } = openConversationLog(main.db, {
      dataDir: dir.path,
      maxMessages: 100_000,
      maxAgeMs: 60_000,
      flushIntervalMs: 60_000,
      maxBatch: 10,
      maxQueuedBytes: 1_010_000,
      entry: new URL('./fixtures/stalled-history-entry.mjs', import.meta.url),
      onError: (error, dropped) => errors.push({ message: String(error), dropped }),
    });
    for (let i = 0; i < 30; i++) {
      log.append(big('c', i));
      log.flush();
    }
    await log.close();
    main.close();
    // ~100 KB each: ten are posted (~1 MB), the other twenty dropped.
    expect(errors.reduce((sum, e) => sum + (/behind/.test(e.message) ? e.dropped : 0), 0)).toBe(20);
  });
});
