// The messages each conversation saw on this node, for GET /api/v1/conversations/{id}. `append` sits on the
// routing hot path, so it only buffers a reference. Each group commit writes the whole batch as ONE row (a
// segment: the messages as UTF-8 JSON lines, plus their conversation ids and byte lengths); where each
// conversation's messages are (segment, byte offset, length) is an in-memory index, rebuilt at start from
// the small columns, and a read fetches just those bytes with substr(). Measured side by side here (2 busy
// vCPUs, 258-byte messages, 1000 per batch, retention pruning on): a row per message with an index on the
// conversation ~15 µs per message; a row per message, no index ~3.1 µs (but a read scans the table: 25 ms);
// this store ~2.7–3.2 µs, of which JSON.stringify is 1–2 µs, and append() itself ~0.1 µs.
//
// Bounded two ways, a whole segment at a time (a segment holds at most `maxBatch` messages): at most
// `maxMessages` messages, and nothing whose segment is older than `maxAgeMs`.
import { knownWireTextOf } from '../agents/wire-text.ts';
import type { AclMessage } from '../messaging/message.ts';
import { BatchWriter } from './batch-writer.ts';
import type { Database } from './database.ts';

export interface ConversationStoreOptions {
  maxMessages: number;
  maxAgeMs: number;
  flushIntervalMs: number;
  /** Largest segment, in messages. */
  maxBatch: number;
  /** Milliseconds since the epoch; injected for tests. */
  nowMs?: () => number;
  onError?(error: unknown, dropped: number): void;
}

interface PendingMessage {
  ts: number;
  message: AclMessage;
}

interface Segment {
  id: number;
  lastTs: number;
  /** The conversation of each message, in order; drives the index cleanup when the segment is dropped. */
  conversationIds: string[];
  byteLengths: number[];
}

/** Where a conversation's messages are: flat triples (segment id, byte offset, byte length) in append order. */
type Locations = number[];
const STRIDE = 3;
const NEWLINE = 0x0a;
/** Largest segment buffer kept between writes (a full segment of typical messages is ~0.3 MiB). */
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;

export class ConversationStore {
  private readonly writer: BatchWriter<PendingMessage>;
  private readonly selectMessage;
  private readonly nowMs: () => number;
  private readonly maxAgeMs: number;
  private readonly maxMessages: number;
  private readonly segments: Segment[] = [];
  private readonly index = new Map<string, Locations>();
  private stored = 0;
  /** Where a segment's messages are encoded before the insert copies them; at most SCRATCH_MAX_BYTES, kept. */
  private scratch = Buffer.alloc(0);
  private nextSegmentId: number;

  constructor(database: Database, options: ConversationStoreOptions) {
    const { db } = database;
    this.nowMs = options.nowMs ?? Date.now;
    this.maxAgeMs = options.maxAgeMs;
    this.maxMessages = options.maxMessages;
    // substr() of a BLOB counts bytes from 1.
    this.selectMessage = db.prepare('SELECT substr(messages, ? + 1, ?) FROM conversation_segments WHERE id = ?').pluck();
    const insert = db.prepare(
      `INSERT INTO conversation_segments (id, first_ts, last_ts, count, conversation_ids, byte_lengths, messages)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const deleteUpTo = db.prepare('DELETE FROM conversation_segments WHERE id <= ?');

    // Whatever outlived its age while the node was down goes now; the rest rebuilds the index.
    deleteUpTo.run(
      (db.prepare('SELECT max(id) FROM conversation_segments WHERE last_ts < ?').pluck().get(this.nowMs() - this.maxAgeMs) as
        | number
        | null) ?? 0,
    );
    const rows = db
      .prepare('SELECT id, last_ts, conversation_ids, byte_lengths FROM conversation_segments ORDER BY id')
      .all() as Array<{ id: number; last_ts: number; conversation_ids: string; byte_lengths: string }>;
    for (const row of rows) {
      this.addSegment({
        id: row.id,
        lastTs: row.last_ts,
        conversationIds: JSON.parse(row.conversation_ids) as string[],
        byteLengths: JSON.parse(row.byte_lengths) as number[],
      });
    }
    this.nextSegmentId = (rows.length ? rows[rows.length - 1].id : 0) + 1;

    this.writer = new BatchWriter<PendingMessage>({
      transaction: (fn) => db.transaction(fn)(),
      write: (all) => {
        // A message that cannot be serialized (content too deep for JSON.stringify) is left out alone: one
        // bad row once took the whole batch, and 20 unrelated conversations, with it.
        const batch: PendingMessage[] = [];
        const lines: string[] = [];
        for (const pending of all) {
          const line = storedTextOf(pending.message);
          if (line === null) {
            options.onError?.(new Error(`conversation ${pending.message.conversation_id}: a message could not be serialized; left out of the history`), 1);
            continue;
          }
          batch.push(pending);
          // JSON escapes newlines inside strings: one message per line, always.
          lines.push(line);
        }
        if (batch.length === 0) return;
        const id = this.nextSegmentId++;
        const conversationIds = new Array<string>(batch.length);
        const byteLengths = new Array<number>(batch.length);
        // One pass: each line is encoded into the segment's buffer, which gives its byte length too.
        const blob = this.segmentBuffer(lines);
        let used = 0;
        for (let i = 0; i < batch.length; i++) {
          conversationIds[i] = batch[i].message.conversation_id;
          if (i > 0) blob[used++] = NEWLINE;
          byteLengths[i] = blob.write(lines[i], used);
          used += byteLengths[i];
        }
        const lastTs = batch[batch.length - 1].ts;
        insert.run(id, batch[0].ts, lastTs, batch.length, JSON.stringify(conversationIds), JSON.stringify(byteLengths), blob.subarray(0, used));
        this.addSegment({ id, lastTs, conversationIds, byteLengths });
        const dropped = this.dropExpired();
        if (dropped > 0) deleteUpTo.run(dropped);
      },
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      onError: options.onError,
    });
    database.onClose(() => this.writer.flush());
  }

  /** Buffers the message; it must not be mutated afterwards (it is serialized at flush time). */
  append(message: AclMessage): void {
    this.writer.push({ ts: this.nowMs(), message });
  }

  /**
   * The conversation's messages, oldest first, buffered ones included; at most the `limit` most recent.
   * Messages past maxAgeMs are hidden even before the next write deletes them.
   */
  list(conversationId: string, options: { limit?: number } = {}): AclMessage[] {
    const limit = options.limit ?? 10_000;
    const newestFirst: AclMessage[] = [];
    const pending = this.writer.pending();
    for (let i = pending.length - 1; i >= 0 && newestFirst.length < limit; i--) {
      if (pending[i].message.conversation_id === conversationId) newestFirst.push(pending[i].message);
    }
    const locations = this.index.get(conversationId);
    if (locations && newestFirst.length < limit) {
      const cutoff = this.nowMs() - this.maxAgeMs;
      const lastTsById = new Map(this.segments.map((s) => [s.id, s.lastTs]));
      for (let i = locations.length - STRIDE; i >= 0 && newestFirst.length < limit; i -= STRIDE) {
        if ((lastTsById.get(locations[i]) ?? -Infinity) < cutoff) break;
        const bytes = this.selectMessage.get(locations[i + 1], locations[i + 2], locations[i]) as Buffer | undefined;
        if (bytes) newestFirst.push(JSON.parse(bytes.toString('utf8')) as AclMessage);
      }
    }
    return newestFirst.reverse();
  }

  /** Messages on disk (buffered ones not counted). */
  size(): number {
    return this.stored;
  }

  flush(): void {
    this.writer.flush();
  }

  /**
   * A buffer that holds `lines` as UTF-8 with a newline between each: the kept scratch buffer when a worst-case
   * estimate (3 bytes per UTF-16 unit) fits SCRATCH_MAX_BYTES, else one of the exact size for this segment alone.
   */
  private segmentBuffer(lines: string[]): Buffer {
    let units = lines.length;
    for (const line of lines) units += line.length;
    if (units * 3 <= SCRATCH_MAX_BYTES) {
      if (this.scratch.length < units * 3) this.scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX_BYTES, Math.max(units * 3, 2 * this.scratch.length)));
      return this.scratch;
    }
    let bytes = lines.length;
    for (const line of lines) bytes += Buffer.byteLength(line);
    return Buffer.allocUnsafe(bytes);
  }

  private addSegment(segment: Segment): void {
    this.segments.push(segment);
    this.stored += segment.conversationIds.length;
    let offset = 0;
    for (let i = 0; i < segment.conversationIds.length; i++) {
      let locations = this.index.get(segment.conversationIds[i]);
      if (!locations) this.index.set(segment.conversationIds[i], (locations = []));
      locations.push(segment.id, offset, segment.byteLengths[i]);
      offset += segment.byteLengths[i] + 1; // the newline
    }
  }

  /** Drops the oldest segments past either bound (never the newest); returns the last id dropped, or 0. */
  private dropExpired(): number {
    const cutoff = this.nowMs() - this.maxAgeMs;
    let lastDropped = 0;
    while (this.segments.length > 1 && (this.stored > this.maxMessages || this.segments[0].lastTs < cutoff)) {
      const segment = this.segments.shift()!;
      lastDropped = segment.id;
      this.stored -= segment.conversationIds.length;
      // Its messages are the oldest of each conversation they belong to: the front of each location list.
      for (const conversationId of new Set(segment.conversationIds)) {
        const locations = this.index.get(conversationId)!;
        let cut = 0;
        while (cut < locations.length && locations[cut] === segment.id) cut += STRIDE;
        if (cut === locations.length) this.index.delete(conversationId);
        else locations.splice(0, cut);
      }
    }
    return lastDropped;
  }
}

/**
 * The message as JSON text: the text it was delivered to an agent of this thread as (wire-text.ts), which
 * holds the same value (read back with JSON.parse), when there is one; else serialized. Not with a trace_context: tracing may replace it
 * on the message after that text was made.
 */
function storedTextOf(message: AclMessage): string | null {
  const known = message.trace_context === undefined ? knownWireTextOf(message) : undefined;
  // An agent's own text may hold newlines between tokens; the segment keeps one message per line.
  return known !== undefined && known.indexOf('\n') === -1 ? known : serializedOrNull(message);
}

/** The message as one JSON line, or null when it cannot be serialized (a stack overflow on deep content). */
function serializedOrNull(message: AclMessage): string | null {
  try {
    return JSON.stringify(message);
  } catch {
    return null;
  }
}
