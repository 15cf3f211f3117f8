// Issue 10, finding 5: content nested 10k–400k deep (under 1 MiB) was accepted, then JSON.stringify overflowed
// the stack on delivery and in the history writer: no reply, no failure, no dead letter, and the whole history
// batch (20 unrelated conversations) was lost. Every entry now bounds the depth and names the field; the last
// guards (wire text, history writer) refuse one message without losing the others.
import { afterEach, describe, expect, it } from 'vitest';
import { wireTextOf, WireTextError } from '../../src/messaging/wire-text.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { MAX_CONTENT_DEPTH, nestedDeeperThan, parseMessage } from '../../src/messaging/message.ts';
import { openConversationLog } from '../../src/state/conversation-log.ts';
import { openDatabase, type Database } from '../../src/state/database.ts';
import { message as stored, tempDir } from '../state/helpers.ts';
import { message, setup } from '../agents/fixtures.ts';

/** `[[[...]]]` `depth` deep, built as text and parsed, as a client's body would be. */
function nested(depth: number): unknown {
  return JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
}

describe('deeply nested content', () => {
  it('parseMessage refuses content deeper than the bound, naming the field (API and ABI share it)', () => {
    for (const depth of [MAX_CONTENT_DEPTH + 1, 10_000, 400_000]) {
      const result = parseMessage({ performative: 'inform', receiver: 'bob', content: nested(depth) });
      expect(result).toEqual({ ok: false, field: 'content', message: `content: nested deeper than ${MAX_CONTENT_DEPTH} levels of objects and arrays` });
    }
    // The zod path (a field the fast path leaves to zod) checks it too.
    const slow = parseMessage({ performative: 'inform', receiver: 'bob', reply_by: '2030-01-01T00:00:00Z', content: { a: nested(10_000) } });
    expect(slow).toMatchObject({ ok: false, field: 'content' });
    expect(parseMessage({ performative: 'inform', receiver: 'bob', content: nested(MAX_CONTENT_DEPTH) }).ok).toBe(true);
  });

  it('nestedDeeperThan counts objects and arrays alike, and any depth is safe to ask about', () => {
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [{ b: {} }] }, 3)).toBe(true);
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan(nested(1_000_000), 128)).toBe(true);
  });

  it('wire text refuses a message it cannot serialize, and the runtime answers its sender with a failure', async () => {
    const deep = message('echo', { content: nested(400_000) });
    expect(() => wireTextOf(deep, false)).toThrow(WireTextError);
    const { runtime, sink, deploy } = setup();
    const { echoAgent } = await import('../agents/fixtures.ts');
    await deploy('echo', await echoAgent());
    expect(runtime.deliver(deep, 'echo')).toBe('queued');
    await runtime.whenIdle();
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({
      performative: 'failure',
      receiver: deep.sender,
      content: { error: { code: 'INVALID_MESSAGE', details: { field: 'content' } } },
    });
  });

  describe('history writer', () => {
    let dir: ReturnType<typeof tempDir>;
    let database: Database;
    afterEach(() => {
      database?.close();
      dir?.remove();
    });

    it('one message it cannot serialize is left out; the other 20 conversations of the batch are kept', async () => {
      dir = tempDir();
      database = openDatabase(dir.path);
      const errors: string[] = [];
      const { log } = openConversationLog(database.db, {
        dataDir: dir.path,
        maxMessages: 1000,
        maxAgeMs: 60_000,
        flushIntervalMs: 1000,
        maxBatch: 1000,
        onError: (error) => errors.push(String(error)),
      });
      for (let i = 0; i < 10; i++) log.append(stored(`c-${i}`, 1));
      log.append(stored('bad', 1, { content: nested(400_000) }) as AclMessage);
      for (let i = 10; i < 20; i++) log.append(stored(`c-${i}`, 1));
      log.flush();
      for (let i = 0; i < 20; i++) expect(await log.list(`c-${i}`)).toEqual([stored(`c-${i}`, 1)]);
      expect(await log.list('bad')).toEqual([]);
      await log.close();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/conversation bad: a message could not be serialized/);
    });
  });
});
