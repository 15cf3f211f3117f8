// Where the conversation history is stored: each write is ONE row (a segment: the messages as UTF-8 JSON
// lines, plus their conversation ids and byte lengths); where each conversation's messages are (segment, byte
// offset, length) is an in-memory index, rebuilt at start from the small columns, and a read fetches just
// those bytes with substr(). Measured side by side here (2 busy vCPUs, 258-byte messages, 1000 per batch,
// retention pruning on): a row per message with an index on the conversation ~15 µs per message; a row per
// message, no index ~3.1 µs (but a read scans the table: 25 ms); segments ~2.7–3.2 µs.
//
// Bounded three ways, a whole segment at a time: at most `maxMessages` messages, at most `maxBytes` of their
// text, and nothing whose segment is older than `maxAgeMs`. Synchronous: it runs on the history thread (conversation-log-worker.ts), which owns
// the history's own database file, so these writes never hold up the node's main thread.
import type { SqliteDatabase } from './database.ts';

export interface ConversationSegmentsOptions {
  maxMessages: number;
  /** Bytes of message text kept (state.conversation_max_bytes); unbounded when absent. */
  maxBytes?: number;
  maxAgeMs: number;
  /** Milliseconds since the epoch; injected for tests. */
  nowMs?: () => number;
}

/** One message to store: its text is one line of JSON (history-text.ts makes it). */
export interface HistoryRow {
  ts: number;
  conversationId: string;
  text: string;
}

interface Segment {
  id: number;
  lastTs: number;
  /** The conversation of each message, in order; drives the index cleanup when the segment is dropped. */
  conversationIds: string[];
  byteLengths: number[];
  /** Its messages' bytes, the newlines between them included. */
  bytes: number;
}

/** Where a conversation's messages are: flat triples (segment id, byte offset, byte length) in append order. */
type Locations = number[];

/**
 * Where one message is stored: its segment and byte offset. Stable while the message is kept (an index
 * position is not: dropping old segments shifts it), so a page can be continued after it.
 */
export type HistoryPosition = readonly [segmentId: number, offset: number];

export interface HistoryPage {
  texts: string[];
  /** Messages of the conversation follow this page (it was cut by its `limit` or its `maxBytes`). */
  more: boolean;
  /** Where the page's last message is: the page after it starts past there. Absent when the page is empty. */
  last?: HistoryPosition;
}
const STRIDE = 3;
const NEWLINE = 0x0a;
/** Largest segment buffer kept between writes (a full segment of typical messages is ~0.3 MiB). */
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The segments table of conversations.db (history-database.ts creates it). The same table as caxton.db's
 * migration 1, where an older Caxton kept the history: written again here, as migrations stay frozen.
 */
export const SEGMENTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS conversation_segments (
    id               INTEGER PRIMARY KEY,
    first_ts         INTEGER NOT NULL,
    last_ts          INTEGER NOT NULL,
    count            INTEGER NOT NULL,
    -- Small, and before the large column, so a start-up scan reads them without the messages:
    -- JSON arrays with the conversation id and the UTF-8 byte length of each message, in order.
    conversation_ids TEXT NOT NULL,
    byte_lengths     TEXT NOT NULL,
    -- The messages as JSON lines (UTF-8 BLOB, so that one message is read by byte offset).
    messages         BLOB NOT NULL
  );
`;

export class ConversationSegments {
  private readonly selectMessage;
  private readonly insert;
  private readonly deleteUpTo;
  /** write() in one transaction, made once (better-sqlite3 wraps a function per call of db.transaction). */
  private readonly writeSegment: (rows: readonly HistoryRow[]) => void;
  private readonly nowMs: () => number;
  private readonly maxAgeMs: number;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly segments: Segment[] = [];
  private readonly index = new Map<string, Locations>();
  private stored = 0;
  private storedBytes = 0;
  /** Where a segment's messages are encoded before the insert copies them; at most SCRATCH_MAX_BYTES, kept. */
  private scratch = Buffer.alloc(0);
  private nextSegmentId: number;

  /** `db` holds the segments table already (conversations.db, or caxton.db of an older Caxton). */
  constructor(db: SqliteDatabase, options: ConversationSegmentsOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.maxAgeMs = options.maxAgeMs;
    this.maxMessages = options.maxMessages;
    this.maxBytes = options.maxBytes ?? Infinity;
    // substr() of a BLOB counts bytes from 1.
    this.selectMessage = db.prepare('SELECT substr(messages, ? + 1, ?) FROM conversation_segments WHERE id = ?').pluck();
    this.insert = db.prepare(
      `INSERT INTO conversation_segments (id, first_ts, last_ts, count, conversation_ids, byte_lengths, messages)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteUpTo = db.prepare('DELETE FROM conversation_segments WHERE id <= ?');
    this.writeSegment = db.transaction((rows: readonly HistoryRow[]) => this.storeSegment(rows));

    // Whatever outlived its age while the node was down goes now; the rest rebuilds the index.
    this.deleteUpTo.run(
      (db.prepare('SELECT max(id) FROM conversation_segments WHERE last_ts < ?').pluck().get(this.nowMs() - this.maxAgeMs) as
        | number
        | null) ?? 0,
    );
    const rows = db
      .prepare('SELECT id, last_ts, conversation_ids, byte_lengths, length(messages) AS bytes FROM conversation_segments ORDER BY id')
      .all() as Array<{ id: number; last_ts: number; conversation_ids: string; byte_lengths: string; bytes: number }>;
    for (const row of rows) {
      this.addSegment({
        id: row.id,
        lastTs: row.last_ts,
        conversationIds: JSON.parse(row.conversation_ids) as string[],
        byteLengths: JSON.parse(row.byte_lengths) as number[],
        bytes: row.bytes,
      });
    }
    this.nextSegmentId = (rows.length ? rows[rows.length - 1].id : 0) + 1;
    // A lowered bound applies at once.
    const dropped = this.dropExpired();
    if (dropped > 0) this.deleteUpTo.run(dropped);
  }

  /** Stores `rows` as one segment, in one transaction, then drops what is past either bound. */
  write(rows: readonly HistoryRow[]): void {
    if (rows.length > 0) this.writeSegment(rows);
  }

  private storeSegment(rows: readonly HistoryRow[]): void {
    const id = this.nextSegmentId++;
    const conversationIds = new Array<string>(rows.length);
    const byteLengths = new Array<number>(rows.length);
    // One pass: each line is encoded into the segment's buffer, which gives its byte length too.
    const blob = this.segmentBuffer(rows);
    let used = 0;
    for (let i = 0; i < rows.length; i++) {
      conversationIds[i] = rows[i].conversationId;
      if (i > 0) blob[used++] = NEWLINE;
      byteLengths[i] = blob.write(rows[i].text, used);
      used += byteLengths[i];
    }
    const lastTs = rows[rows.length - 1].ts;
    this.insert.run(id, rows[0].ts, lastTs, rows.length, JSON.stringify(conversationIds), JSON.stringify(byteLengths), blob.subarray(0, used));
    this.addSegment({ id, lastTs, conversationIds, byteLengths, bytes: used });
    const dropped = this.dropExpired();
    if (dropped > 0) this.deleteUpTo.run(dropped);
  }

  /**
   * The texts of the conversation's messages, oldest first; at most the `limit` most recent. Messages past
   * maxAgeMs are hidden even before the next write deletes them.
   */
  texts(conversationId: string, limit: number): string[] {
    return this.page(conversationId, { limit, maxBytes: Infinity }).texts;
  }

  /**
   * A page of the conversation's messages, oldest first: those after `after` (or, without it, from the
   * `limit`-th most recent on), at most `limit` of them and, past the first, at most `maxBytes` of stored text.
   * Each length is known from the index before its bytes are read, so a page holds at most `maxBytes` (or one
   * message, if that alone is larger). Messages past maxAgeMs are hidden even before the next write deletes them.
   */
  page(conversationId: string, options: { limit: number; maxBytes: number; after?: HistoryPosition }): HistoryPage {
    const locations = this.index.get(conversationId);
    const texts: string[] = [];
    if (locations === undefined || options.limit <= 0) return { texts, more: false };
    const cutoff = this.nowMs() - this.maxAgeMs;
    let bytes = 0;
    let last: HistoryPosition | undefined;
    const start = options.after === undefined ? Math.max(0, locations.length - options.limit * STRIDE) : firstAfter(locations, options.after);
    for (let i = start; i < locations.length; i += STRIDE) {
      const segmentId = locations[i];
      const offset = locations[i + 1];
      const length = locations[i + 2];
      if (this.lastTsOf(segmentId) < cutoff) continue;
      if (texts.length >= options.limit || (texts.length > 0 && bytes + length > options.maxBytes)) return { texts, more: true, last };
      const text = this.selectMessage.get(offset, length, segmentId) as Buffer | undefined;
      if (text === undefined) continue;
      texts.push(text.toString('utf8'));
      bytes += length;
      last = [segmentId, offset];
    }
    return { texts, more: false, last };
  }

  /** The last timestamp of a live segment (binary search: segments are in id order), -Infinity when dropped. */
  private lastTsOf(segmentId: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const id = this.segments[middle].id;
      if (id === segmentId) return this.segments[middle].lastTs;
      if (id < segmentId) low = middle + 1;
      else high = middle - 1;
    }
    return -Infinity;
  }

  /** Messages stored. */
  size(): number {
    return this.stored;
  }

  /** Bytes of the messages stored. */
  bytes(): number {
    return this.storedBytes;
  }

  /**
   * A buffer that holds the rows' texts as UTF-8 with a newline between each: the kept scratch buffer when a
   * worst-case estimate (3 bytes per UTF-16 unit) fits SCRATCH_MAX_BYTES, else one of the exact size for this
   * segment alone.
   */
  private segmentBuffer(rows: readonly HistoryRow[]): Buffer {
    let units = rows.length;
    for (const row of rows) units += row.text.length;
    if (units * 3 <= SCRATCH_MAX_BYTES) {
      if (this.scratch.length < units * 3) this.scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX_BYTES, Math.max(units * 3, 2 * this.scratch.length)));
      return this.scratch;
    }
    let bytes = rows.length;
    for (const row of rows) bytes += Buffer.byteLength(row.text);
    return Buffer.allocUnsafe(bytes);
  }

  private addSegment(segment: Segment): void {
    this.segments.push(segment);
    this.stored += segment.conversationIds.length;
    this.storedBytes += segment.bytes;
    let offset = 0;
    for (let i = 0; i < segment.conversationIds.length; i++) {
      let locations = this.index.get(segment.conversationIds[i]);
      if (!locations) this.index.set(segment.conversationIds[i], (locations = []));
      locations.push(segment.id, offset, segment.byteLengths[i]);
      offset += segment.byteLengths[i] + 1; // the newline
    }
  }

  /** Drops the oldest segments past any bound (never the newest); returns the last id dropped, or 0. */
  private dropExpired(): number {
    const cutoff = this.nowMs() - this.maxAgeMs;
    let lastDropped = 0;
    while (
      this.segments.length > 1 &&
      (this.stored > this.maxMessages || this.storedBytes > this.maxBytes || this.segments[0].lastTs < cutoff)
    ) {
      const segment = this.segments.shift()!;
      lastDropped = segment.id;
      this.stored -= segment.conversationIds.length;
      this.storedBytes -= segment.bytes;
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

/** The index (a multiple of STRIDE) of the first location stored after `after`; locations.length if none. */
function firstAfter(locations: Locations, after: HistoryPosition): number {
  let low = 0;
  let high = locations.length / STRIDE;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const i = middle * STRIDE;
    const isAfter = locations[i] > after[0] || (locations[i] === after[0] && locations[i + 1] > after[1]);
    if (isAfter) high = middle;
    else low = middle + 1;
  }
  return low * STRIDE;
}
