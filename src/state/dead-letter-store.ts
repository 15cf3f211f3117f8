// Messages that could not be delivered (messages.md, Delivery): bounded and inspectable. `record` is called
// while routing, so it only buffers; rows reach SQLite in one transaction per batch, and once `maxRows` is
// reached the oldest are dropped.
import type { DeadLetterSink } from '../messaging/dead-letter-sink.ts';
import type { AclMessage } from '../messaging/message.ts';
import type { DeadLetter } from '../node/services.ts';
import { BatchWriter } from './batch-writer.ts';
import type { Database } from './database.ts';

export interface StoredDeadLetter extends DeadLetter {
  /** The receiver the message failed for, when it had several. */
  receiver?: string;
}

export interface DeadLetterStoreOptions {
  maxRows: number;
  flushIntervalMs: number;
  maxBatch: number;
  now?: () => Date;
  onError?(error: unknown, dropped: number): void;
}

interface DeadLetterRow {
  id: number;
  ts: string;
  reason: string;
  receiver: string | null;
  message: string;
}

export class DeadLetterStore implements DeadLetterSink {
  private readonly writer: BatchWriter<StoredDeadLetter>;
  private readonly selectRecent;
  private readonly deleteAll;
  private readonly now: () => Date;
  private nextId: number;

  constructor(database: Database, options: DeadLetterStoreOptions) {
    const { db } = database;
    this.now = options.now ?? (() => new Date());
    this.nextId = ((db.prepare('SELECT max(id) FROM dead_letters').pluck().get() as number | null) ?? 0) + 1;
    const insert = db.prepare('INSERT INTO dead_letters (id, ts, reason, receiver, message) VALUES (?, ?, ?, ?, ?)');
    const prune = db.prepare('DELETE FROM dead_letters WHERE id <= ?');
    this.selectRecent = db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?');
    this.deleteAll = db.prepare('DELETE FROM dead_letters');
    this.writer = new BatchWriter<StoredDeadLetter>({
      transaction: (fn) => db.transaction(fn)(),
      write: (rows) => {
        for (const r of rows) insert.run(r.id, r.ts, r.reason, r.receiver ?? null, JSON.stringify(r.message));
        prune.run(rows[rows.length - 1].id - options.maxRows);
      },
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      onError: options.onError,
    });
    database.onClose(() => this.writer.flush());
  }

  /**
   * Buffers the message and returns its id. The message is serialized at flush time: it must not be
   * mutated afterwards (routed messages never are).
   */
  record(message: AclMessage, reason: string, receiver?: string): number {
    const id = this.nextId++;
    this.writer.push({ id, ts: this.now().toISOString(), reason, message, ...(receiver !== undefined ? { receiver } : {}) });
    return id;
  }

  /** The most recent `limit` dead letters, newest first. */
  list(options: { limit?: number } = {}): StoredDeadLetter[] {
    const limit = options.limit ?? 100;
    const pending = this.writer.pending();
    const result: StoredDeadLetter[] = [];
    for (let i = pending.length - 1; i >= 0 && result.length < limit; i--) result.push(pending[i]);
    if (result.length < limit) {
      for (const row of this.selectRecent.all(limit - result.length) as DeadLetterRow[]) {
        result.push({
          id: row.id,
          ts: row.ts,
          reason: row.reason,
          message: JSON.parse(row.message) as AclMessage,
          ...(row.receiver !== null ? { receiver: row.receiver } : {}),
        });
      }
    }
    return result;
  }

  /** Deletes every dead letter; returns how many there were. */
  purge(): number {
    this.writer.flush();
    return this.deleteAll.run().changes;
  }

  flush(): void {
    this.writer.flush();
  }
}
