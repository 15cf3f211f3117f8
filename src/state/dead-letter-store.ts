// Messages that could not be delivered (messages.md, Delivery): bounded and inspectable. `record` is called
// while routing, so it only buffers; rows reach SQLite in one transaction per batch. At most `maxRows` rows and
// `maxBytes` of stored text are kept, and at most `maxPerSender` rows (and that share of the bytes) naming one
// address as sender or receiver (dead-letter-retention.ts): past either, the oldest go, and a row dropped before
// its flush is never serialized (a flood costs little more than counting). A row's bytes are weighed when it is
// recorded if its text is known already (an agent's send, a client's body), else when it is serialized at its
// flush, so the byte bounds hold from each flush on, and a flood of large agent messages is dropped unwritten.
import type { DeadLetterSink } from '../messaging/dead-letter-sink.ts';
import type { AclMessage } from '../messaging/message.ts';
import { knownWireTextOf, settledWireTextOf } from '../messaging/wire-text.ts';
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
  /** Rows kept naming one address, as sender or receiver (config state.dead_letters_per_sender); maxRows when absent. */
  maxPerSender?: number;
  /** Bytes of stored message text kept (config state.dead_letters_max_bytes); unbounded when absent. */
  maxBytes?: number;
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
  private readonly selectPage;
  private readonly selectOlder;
  private readonly onError: DeadLetterStoreOptions['onError'];
  private readonly deleteAll;
  private readonly now: () => Date;
  private nextId: number;
  private readonly retention: DeadLetterRetention;
  /** Ids dropped since the last flush: skipped if still buffered, deleted if already written. */
  private readonly dropped = new Set<number>();
  private readonly dropLater = (id: number): void => {
    this.dropped.add(id);
  };

  constructor(database: Database, options: DeadLetterStoreOptions) {
    const { db } = database;
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError;
    this.nextId = ((db.prepare('SELECT max(id) FROM dead_letters').pluck().get() as number | null) ?? 0) + 1;
    const insert = db.prepare('INSERT INTO dead_letters (id, ts, reason, receiver, message) VALUES (?, ?, ?, ?, ?)');
    const remove = db.prepare('DELETE FROM dead_letters WHERE id = ?');
    this.retention = new DeadLetterRetention(options.maxRows, options.maxPerSender ?? options.maxRows, options.maxBytes);
    // What survived a restart counts against the bounds as it was kept (a lowered bound applies at once).
    const existing = db
      .prepare("SELECT id, json_extract(message, '$.sender') AS sender, receiver, length(CAST(message AS BLOB)) AS bytes FROM dead_letters ORDER BY id")
      .all() as { id: number; sender: unknown; receiver: string | null; bytes: number }[];
    for (const row of existing) {
      this.retention.add(row.id, typeof row.sender === 'string' ? row.sender : '', this.dropLater, row.receiver ?? undefined);
      this.retention.weigh(row.id, row.bytes, this.dropLater);
    }
    if (this.dropped.size > 0) {
      db.transaction(() => {
        for (const id of this.dropped) remove.run(id);
      })();
      this.dropped.clear();
    }
    this.selectPage = db.prepare('SELECT id, ts, reason, receiver, message FROM dead_letters WHERE id < ? ORDER BY id DESC LIMIT ?');
    this.selectOlder = db.prepare('SELECT 1 FROM dead_letters WHERE id < ? LIMIT 1');
    this.deleteAll = db.prepare('DELETE FROM dead_letters');
    this.writer = new BatchWriter<StoredDeadLetter>({
      transaction: (fn) => db.transaction(fn)(),
      write: (rows) => {
        const dropped = this.dropped;
        for (const r of rows) {
          if (dropped.delete(r.id)) continue;
          // The text it was delivered as when known (the same JSON), else serialized now.
          const text = settledWireTextOf(r.message) ?? serializedOrNull(r.message);
          // One message that cannot be serialized (content too deep) is left out, never the batch.
          if (text === null) {
            this.retention.forget(r.id);
            options.onError?.(new Error(`dead letter ${r.id}: the message could not be serialized; not kept`), 1);
            continue;
          }
          insert.run(r.id, r.ts, r.reason, r.receiver ?? null, text);
          // May drop older rows (written, or later in this batch: skipped above when reached).
          this.retention.weigh(r.id, Buffer.byteLength(text), this.dropLater);
        }
        // Every buffered row was in this batch: what is left was written before, or just now.
        for (const id of dropped) remove.run(id);
        dropped.clear();
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
    this.retention.add(id, typeof message.sender === 'string' ? message.sender : '', this.dropLater, receiver);
    const known = knownWireTextOf(message);
    if (known !== undefined) this.retention.weigh(id, known.length, this.dropLater);
    this.writer.push({ id, ts: this.now().toISOString(), reason, message, ...(receiver !== undefined ? { receiver } : {}) });
    return id;
  }

  /** The most recent `limit` dead letters, newest first. Unbounded in bytes: what a client asks for goes through `page`. */
  list(options: { limit?: number } = {}): StoredDeadLetter[] {
    return this.page({ ...options, maxBytes: Infinity }).entries;
  }

  /**
   * Dead letters newest first, those older than `beforeId` when given: at most `limit` and, past the first,
   * `maxBytes` of stored message text. Rows are read one at a time and the read stops at the row that would
   * pass `maxBytes`, so it holds at most that plus one row. `more` is set when older ones follow the page.
   */
  page(options: { limit?: number; beforeId?: number; maxBytes: number }): { entries: StoredDeadLetter[]; more: boolean } {
    const limit = options.limit ?? 100;
    // Buffered rows are not serialized yet: written first, every row is read, and measured, from one place.
    this.flushReporting();
    const entries: StoredDeadLetter[] = [];
    let bytes = 0;
    for (const row of this.selectPage.iterate(options.beforeId ?? Number.MAX_SAFE_INTEGER, limit) as IterableIterator<DeadLetterRow>) {
      const rowBytes = Buffer.byteLength(row.message);
      // Leaving the loop ends the statement: the rows past this one are never read.
      if (entries.length > 0 && bytes + rowBytes > options.maxBytes) return { entries, more: true };
      bytes += rowBytes;
      entries.push({
        id: row.id,
        ts: row.ts,
        reason: row.reason,
        message: JSON.parse(row.message) as AclMessage,
        ...(row.receiver !== null ? { receiver: row.receiver } : {}),
      });
    }
    const more = entries.length === limit && this.selectOlder.get(entries[entries.length - 1].id) !== undefined;
    return { entries, more };
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

  /** A flush whose failure loses the buffered rows, as a timed flush does, and is reported rather than thrown. */
  private flushReporting(): void {
    const buffered = this.writer.pending().length;
    try {
      this.writer.flush();
    } catch (error) {
      if (this.onError) this.onError(error, buffered);
      else process.emitWarning(`caxton: ${buffered} buffered dead letters dropped: ${String(error)}`);
    }
  }
}

function serializedOrNull(message: AclMessage): string | null {
  try {
    return JSON.stringify(message);
  } catch {
    return null;
  }
}
