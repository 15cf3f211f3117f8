// Messages that could not be delivered (messages.md, Delivery): bounded and inspectable. `record` is called
// while routing, so it only buffers; rows reach SQLite in one transaction per batch. At most `maxRows` are
// kept, and at most `maxPerSender` of one sender (dead-letter-retention.ts): past either, the oldest go, and
// a row dropped before its flush is never serialized (a flood costs little more than counting).
import type { DeadLetterSink } from '../messaging/dead-letter-sink.ts';
import type { AclMessage } from '../messaging/message.ts';
import { BatchWriter } from './batch-writer.ts';
import type { Database } from './database.ts';
import { DeadLetterRetention } from './dead-letter-retention.ts';

export interface DeadLetter {
  id: number;
  ts: string;
  reason: string;
  message: AclMessage;
}

export interface StoredDeadLetter extends DeadLetter {
  /** The receiver the message failed for, when it had several. */
  receiver?: string;
}

export interface DeadLetterStoreOptions {
  maxRows: number;
  /** Rows kept per sender (config state.dead_letters_per_sender); maxRows when absent. */
  maxPerSender?: number;
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
  private readonly retention: DeadLetterRetention;
  /** Ids dropped since the last flush: skipped if still buffered, deleted if already written. */
  private dropped = new Set<number>();
  private readonly dropLater = (id: number): void => {
    this.dropped.add(id);
  };

  constructor(database: Database, options: DeadLetterStoreOptions) {
    const { db } = database;
    this.now = options.now ?? (() => new Date());
    this.nextId = ((db.prepare('SELECT max(id) FROM dead_letters').pluck().get() as number | null) ?? 0) + 1;
    const insert = db.prepare('INSERT INTO dead_letters (id, ts, reason, receiver, message) VALUES (?, ?, ?, ?, ?)');
    const remove = db.prepare('DELETE FROM dead_letters WHERE id = ?');
    this.retention = new DeadLetterRetention(options.maxRows, options.maxPerSender ?? options.maxRows);
    // What survived a restart counts against the bounds as it was kept (a lowered bound applies at once).
    const existing = db.prepare("SELECT id, json_extract(message, '$.sender') AS sender FROM dead_letters ORDER BY id").all() as {
      id: number;
      sender: unknown;
    }[];
    for (const row of existing) this.retention.add(row.id, typeof row.sender === 'string' ? row.sender : '', this.dropLater);
    if (this.dropped.size > 0) {
      db.transaction(() => {
        for (const id of this.dropped) remove.run(id);
      })();
      this.dropped.clear();
    }
    this.selectRecent = db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?');
    this.deleteAll = db.prepare('DELETE FROM dead_letters');
    this.writer = new BatchWriter<StoredDeadLetter>({
      transaction: (fn) => db.transaction(fn)(),
      write: (rows) => {
        const dropped = this.dropped;
        this.dropped = new Set();
        for (const r of rows) {
          if (dropped.delete(r.id)) continue;
          const text = serializedOrNull(r.message);
          // One message that cannot be serialized (content too deep) is left out, never the batch.
          if (text === null) {
            options.onError?.(new Error(`dead letter ${r.id}: the message could not be serialized; not kept`), 1);
            continue;
          }
          insert.run(r.id, r.ts, r.reason, r.receiver ?? null, text);
        }
        for (const id of dropped) remove.run(id);
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
    this.retention.add(id, typeof message.sender === 'string' ? message.sender : '', this.dropLater);
    this.writer.push({ id, ts: this.now().toISOString(), reason, message, ...(receiver !== undefined ? { receiver } : {}) });
    return id;
  }

  /** The most recent `limit` dead letters, newest first. */
  list(options: { limit?: number } = {}): StoredDeadLetter[] {
    const limit = options.limit ?? 100;
    const pending = this.writer.pending();
    const result: StoredDeadLetter[] = [];
    for (let i = pending.length - 1; i >= 0 && result.length < limit; i--) if (!this.dropped.has(pending[i].id)) result.push(pending[i]);
    if (result.length < limit) {
      // Rows written and dropped since are deleted at the next flush: read past them.
      for (const row of this.selectRecent.all(limit - result.length + this.dropped.size) as DeadLetterRow[]) {
        if (this.dropped.has(row.id)) continue;
        if (result.length >= limit) break;
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
    this.retention.clear();
    return this.deleteAll.run().changes;
  }

  flush(): void {
    this.writer.flush();
  }
}

function serializedOrNull(message: AclMessage): string | null {
  try {
    return JSON.stringify(message);
  } catch {
    return null;
  }
}
