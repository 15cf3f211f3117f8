// The stores stop reading a page at its byte budget (api.max_answer_bytes) and say where to continue: the
// conversation history (its segments, and the log through its thread) and the dead letters.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AclMessage } from '../../src/messaging/message.ts';
import { openConversationLog } from '../../src/state/conversation-log.ts';
import { ConversationSegments, type HistoryPosition } from '../../src/state/conversation-segments.ts';
import { openDatabase, type Database } from '../../src/state/database.ts';
import { DeadLetterStore } from '../../src/state/dead-letter-store.ts';
import { openHistoryDatabase } from '../../src/state/history-database.ts';
import { historyTextOf } from '../../src/state/history-text.ts';
import { message, tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

/** A message whose stored text is about `bytes` long. */
const sized = (conversation: string, n: number, bytes: number): AclMessage => message(conversation, n, { content: { n, pad: 'x'.repeat(bytes) } });
const numbers = (texts: string[]) => texts.map((t) => (JSON.parse(t) as { content: { n: number } }).content.n);

describe('conversation segments, a page at a time', () => {
  it('stops before the message that would pass maxBytes, and a page goes on after its last', () => {
    const db = openHistoryDatabase(dir.path);
    const segments = new ConversationSegments(db, { maxMessages: 1000, maxAgeMs: 60_000 });
    for (let s = 0; s < 4; s++) {
      segments.write(Array.from({ length: 5 }, (_, i) => ({ ts: Date.now(), conversationId: 'c', text: historyTextOf(sized('c', s * 5 + i, 1000))! })));
    }
    const seen: number[] = [];
    let after: HistoryPosition | undefined;
    for (;;) {
      const page = segments.page('c', { limit: 100, maxBytes: 3500, ...(after ? { after } : {}) });
      expect(page.texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0)).toBeLessThanOrEqual(3500);
      seen.push(...numbers(page.texts));
      if (!page.more) break;
      expect(page.texts).toHaveLength(3);
      after = page.last;
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    db.close();
  });

  it('answers one message larger than maxBytes alone, and goes on past segments dropped meanwhile', () => {
    const db = openHistoryDatabase(dir.path);
    const segments = new ConversationSegments(db, { maxMessages: 4, maxAgeMs: 60_000 });
    const write = (n: number, bytes: number) => segments.write([{ ts: Date.now(), conversationId: 'c', text: historyTextOf(sized('c', n, bytes))! }]);
    write(0, 5000);
    write(1, 10);
    const first = segments.page('c', { limit: 100, maxBytes: 100 });
    expect(numbers(first.texts)).toEqual([0]);
    expect(first.more).toBe(true);
    // Four more: messages 0 and 1 are dropped (maxMessages 4); the cursor still leads to what is after them.
    for (let n = 2; n < 6; n++) write(n, 10);
    expect(numbers(segments.page('c', { limit: 100, maxBytes: 10_000, after: first.last! }).texts)).toEqual([2, 3, 4, 5]);
    db.close();
  });
});

describe('the conversation log, a page at a time', () => {
  it('reads buffered messages as stored ones, cut at maxBytes, with a cursor to go on', async () => {
    const { log } = openConversationLog(openDatabase(dir.path).db, { dataDir: dir.path, maxMessages: 1000, maxAgeMs: 60_000, flushIntervalMs: 60_000, maxBatch: 1000 });
    for (let n = 0; n < 10; n++) log.append(sized('c', n, 1000));
    const first = await log.page('c', { maxBytes: 5000 });
    expect(first.messages.map((m) => (m.content as { n: number }).n)).toEqual([0, 1, 2, 3]);
    const rest = await log.page('c', { maxBytes: 1e6, after: first.next! });
    expect(rest.messages.map((m) => (m.content as { n: number }).n)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(rest.next).toBeUndefined();
    await expect(log.page('c', { maxBytes: 1e6, after: 'nope' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await log.close();
  });
});

describe('dead letters, a page at a time', () => {
  let database: Database;
  afterEach(() => database.close());

  it('stops reading at the row that would pass maxBytes; before_id goes on, newest first', () => {
    database = openDatabase(dir.path);
    const store = new DeadLetterStore(database, { maxRows: 1000, flushIntervalMs: 60_000, maxBatch: 1000 });
    for (let n = 0; n < 10; n++) store.record(sized('c', n, 1000), 'no such agent');
    const seen: number[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = store.page({ limit: 100, maxBytes: 4000, ...(beforeId !== undefined ? { beforeId } : {}) });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((d) => (d.message.content as { n: number }).n));
      if (!page.more) break;
      beforeId = page.entries[page.entries.length - 1].id;
    }
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    // Cut by its limit: said the same way.
    expect(store.page({ limit: 10, maxBytes: Infinity }).more).toBe(false);
    expect(store.page({ limit: 9, maxBytes: Infinity }).more).toBe(true);
  });
});
