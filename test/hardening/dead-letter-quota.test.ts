// Issue 10, finding 6: one agent's flood of MAILBOX_FULL dead letters evicted every earlier one. Dead letters
// are now kept per sender (state.dead_letters_per_sender): the flooder loses its own oldest, the rest stay.
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterRetention } from '../../src/state/dead-letter-retention.ts';
import { DeadLetterStore } from '../../src/state/dead-letter-store.ts';
import { openDatabase, type Database } from '../../src/state/database.ts';
import { message, tempDir } from '../state/helpers.ts';

let dir: ReturnType<typeof tempDir> | undefined;
let database: Database | undefined;
afterEach(() => {
  database?.close();
  dir?.remove();
  database = undefined;
  dir = undefined;
});

function open(maxRows: number, maxPerSender: number): DeadLetterStore {
  database = openDatabase(dir!.path);
  return new DeadLetterStore(database, { maxRows, maxPerSender, flushIntervalMs: 1000, maxBatch: 500 });
}

describe('dead-letter quota per sender', () => {
  it('a flood of one sender keeps only its newest; every other sender keeps theirs, across flushes and a restart', () => {
    dir = tempDir();
    let store = open(100, 10);
    for (let i = 0; i < 5; i++) store.record(message('c-alice', i, { sender: 'alice' }), 'MAILBOX_FULL', 'bob');
    for (let i = 0; i < 20_000; i++) store.record(message('c-flood', i, { sender: 'flood' }), 'MAILBOX_FULL', 'victim');
    for (let i = 5; i < 8; i++) store.record(message('c-alice', i, { sender: 'alice' }), 'MAILBOX_FULL', 'bob');
    const check = (s: DeadLetterStore) => {
      const all = s.list({ limit: 1000 });
      const alice = all.filter((d) => d.message.sender === 'alice').map((d) => d.message.message_id);
      const flood = all.filter((d) => d.message.sender === 'flood').map((d) => d.message.message_id);
      expect(alice).toEqual([7, 6, 5, 4, 3, 2, 1, 0].map((n) => `c-alice-${n}`));
      expect(flood).toEqual(Array.from({ length: 10 }, (_, k) => `c-flood-${19_999 - k}`));
      expect(all).toHaveLength(18);
    };
    check(store);
    store.flush();
    check(store);
    database!.close();
    store = open(100, 10);
    check(store);
  });

  it('the total bound still holds, oldest first, whoever sent them', () => {
    const dropped: number[] = [];
    const retention = new DeadLetterRetention(5, 3);
    const senders = ['a', 'b', 'c', 'a', 'b', 'c', 'a'];
    senders.forEach((sender, i) => retention.add(i + 1, sender, (id) => dropped.push(id)));
    expect(dropped).toEqual([1, 2]);
    expect(retention.size).toBe(5);
    retention.add(8, 'a', (id) => dropped.push(id));
    expect(dropped).toEqual([1, 2, 3]);
    // `a` has 4, 7 and 8: its fourth drops its own oldest (4), not the older 5 of `b`.
    retention.add(9, 'a', (id) => dropped.push(id));
    expect(dropped).toEqual([1, 2, 3, 4]);
    expect(retention.size).toBe(5);
  });

  it('memory stays bounded under a flood of ids', () => {
    const retention = new DeadLetterRetention(10_000, 1_000);
    let drops = 0;
    for (let i = 1; i <= 500_000; i++) retention.add(i, i % 100 === 0 ? `s${i}` : 'flood', () => drops++);
    expect(retention.size).toBeLessThanOrEqual(10_000);
    expect((retention as unknown as { order: unknown[] }).order.length).toBeLessThan(3 * 10_000 + 2048);
  });
});
