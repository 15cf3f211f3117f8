// The messages each conversation saw on this node, for GET /api/v1/conversations/{id}. `append` sits on the
// routing hot path: it buffers a reference, and every flush turns the buffer into one line of JSON per
// message and posts it to the history thread (conversation-log-worker.ts), which stores it in its own file.
// Measured on the API send bench (2 vCPUs, 32 connections, agents on the main thread): storing the history
// on the main thread cost ~8 µs of its CPU per send (38 against 30 µs with the history off).
//
// Bounds: rows wait here at most `flushIntervalMs` (or until `maxBatch`), as every log (batch-writer.ts);
// rows posted and not yet stored are at most `maxQueuedRows` and `maxQueuedBytes` of text (past either a batch is
// dropped and counted, as a failed write is: a log must not grow without bound behind a slow disk; reported at
// most once a second);
// reads in progress at most MAX_READS_IN_FLIGHT, each of at most its page's `maxBytes` of text (api.max_answer_bytes).
import { Worker } from 'node:worker_threads';
import type { AclMessage } from '../messaging/message.ts';
import { DEFAULTS } from '../config/defaults.ts';
import { CaxtonError } from '../errors.ts';
import { BatchWriter } from './batch-writer.ts';
import type { HistoryReply, HistoryRequest, HistoryWorkerSetup } from './conversation-log-protocol.ts';
import type { HistoryPage } from './conversation-segments.ts';
import type { SqliteDatabase } from './database.ts';
import { prepareHistoryFile } from './history-database.ts';
import { historyCursorOf, historyPositionOf } from './history-cursor.ts';
import { historyTextOf } from './history-text.ts';

const ENTRY = new URL('./conversation-log-worker-entry.mjs', import.meta.url);
/** Reads waiting for the history thread; more are refused (UNAVAILABLE) rather than queued. */
export const MAX_READS_IN_FLIGHT = 256;
/** A history thread that exits this often within RESTART_WINDOW_MS is not started again. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10_000;
/** Batches posted and not yet stored, by default (see openConversationLog). */
const QUEUED_BATCHES_MAX = 64;
/**
 * Text posted and not yet stored, by default, in UTF-16 units: the row bound alone let 64,000 messages of up to
 * 1 MiB each wait for the history thread. 400 client sends of 1 MiB left the thread ~14 s and ~300 MB behind
 * here. 64 MiB is the row bound's worth of 1 KiB messages, and ~0.5 s of the history thread's writes.
 */
export const QUEUED_BYTES_MAX = 64 * 1024 * 1024;
/** Batches dropped while the thread is behind are reported together, at most this often (not every flush). */
const DROP_REPORT_INTERVAL_MS = 1000;
/** A close waits this long for the thread to store what it holds and close its file, then ends it. */
const CLOSE_TIMEOUT_MS = 10_000;
/** Messages of one page when the caller gives no limit. */
const DEFAULT_PAGE_MESSAGES = 10_000;

export interface ConversationLogOptions {
  dataDir: string;
  maxMessages: number;
  /** Bytes of message text kept (state.conversation_max_bytes); its default when absent. */
  maxBytes?: number;
  maxAgeMs: number;
  flushIntervalMs: number;
  /** Largest batch, in messages. */
  maxBatch: number;
  /** Rows posted to the history thread and not yet stored. */
  maxQueuedRows: number;
  /** Their text (UTF-16 units); QUEUED_BYTES_MAX when absent. A batch alone larger than it is still posted when nothing waits. */
  maxQueuedBytes?: number;
  /** Rows lost (not serializable, a failed write, the thread behind or gone), with why. */
  onError?(error: unknown, dropped: number): void;
  /** Milliseconds since the epoch; injected for tests. */
  nowMs?: () => number;
  /** The history thread's entry module; tests wrap it to make the thread exit. */
  entry?: URL;
}

interface PendingMessage {
  ts: number;
  message: AclMessage;
}

/** A page of a conversation, oldest first. */
export interface ConversationPage {
  messages: AclMessage[];
  /** Set when messages follow this page: the cursor to pass as `after` for the next one. */
  next?: string;
}

interface Read {
  resolve(page: HistoryPage): void;
  reject(error: Error): void;
}

export class ConversationLog {
  readonly #options: ConversationLogOptions;
  readonly #nowMs: () => number;
  readonly #writer: BatchWriter<PendingMessage>;
  #worker: Worker | undefined;
  /** Rows posted to the current thread and not yet answered `written`. */
  #queued = 0;
  /** Their text, and each posted batch's share of it in the order the thread answers them. */
  #queuedBytes = 0;
  readonly #batchBytes: number[] = [];
  readonly #reads = new Map<number, Read>();
  #nextRead = 1;
  readonly #exits: number[] = [];
  /** Rows dropped because the thread was behind, not reported yet, and when the last report was. */
  #droppedUnreported = 0;
  #droppedReportedAt = -Infinity;
  #closing: Promise<void> | undefined;

  constructor(options: ConversationLogOptions) {
    this.#options = options;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#writer = new BatchWriter<PendingMessage>({
      transaction: (fn) => fn(),
      write: (all) => this.#post(all),
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      onError: options.onError,
    });
    this.#worker = this.#start();
  }

  /** Buffers the message; it must not be mutated afterwards (it is serialized at flush time). */
  append(message: AclMessage): void {
    // Closing, or the thread stopped for good (said once, in #exited): nothing more is kept.
    if (this.#closing !== undefined || this.#worker === undefined) return;
    this.#writer.push({ ts: this.#nowMs(), message });
  }

  /**
   * The conversation's messages, oldest first, buffered ones included; at most the `limit` most recent.
   * Messages past maxAgeMs are hidden even before the history thread deletes them. Unbounded in bytes: what a
   * client asks for goes through `page`.
   */
  async list(conversationId: string, options: { limit?: number } = {}): Promise<AclMessage[]> {
    return (await this.page(conversationId, { ...options, maxBytes: Infinity })).messages;
  }

  /**
   * A page of the conversation's messages, oldest first, buffered ones included: those after the cursor
   * `after` (a page's `next`), or without it from the `limit`-th most recent on; at most `limit` messages and,
   * past the first, `maxBytes` of their stored text. The history thread stops reading there, so a read holds
   * at most that (or one message larger than it). `next` is set when messages follow. Messages past maxAgeMs
   * are hidden even before the history thread deletes them.
   */
  async page(conversationId: string, options: { limit?: number; maxBytes: number; after?: string }): Promise<ConversationPage> {
    const after = options.after === undefined ? undefined : historyPositionOf(options.after);
    if (options.after !== undefined && after === undefined) {
      throw new CaxtonError('INVALID_ARGUMENT', `after: "${options.after.slice(0, 64)}" is not a cursor this node gave (next_after)`, { field: 'after' });
    }
    this.#postBuffered(conversationId);
    const { texts, more, last } = await this.#read({ conversationId, limit: options.limit ?? DEFAULT_PAGE_MESSAGES, maxBytes: options.maxBytes, after });
    const messages = texts.map((text) => JSON.parse(text) as AclMessage);
    return { messages, ...(more && last !== undefined ? { next: historyCursorOf(last) } : {}) };
  }

  /** Posts what is buffered to the history thread (it is stored there shortly after). */
  flush(): void {
    this.#writer.flush();
  }

  /** Posts what is buffered, waits until the history thread stored it and closed its file, and ends it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const buffered = this.#writer.pending().length;
      try {
        this.#writer.flush();
      } catch (error) {
        // The thread is gone for good (or too far behind): what is buffered is lost, said once.
        this.#options.onError?.(error, buffered);
      }
      this.#reportDropped(true);
      const worker = this.#worker;
      this.#worker = undefined;
      if (worker === undefined) return;
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.on('message', (reply: HistoryReply) => {
          if (reply.type === 'closed') void worker.terminate();
        });
        worker.postMessage({ type: 'close' } satisfies HistoryRequest);
        // A thread that cannot finish (a disk that stopped answering) must not hold up the node's stop.
        setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS).unref();
      });
      // Reads the thread did not answer before it ended.
      for (const read of this.#reads.values()) read.reject(new CaxtonError('UNAVAILABLE', 'the node is stopping'));
      this.#reads.clear();
    })();
    return this.#closing;
  }

  /**
   * Messages still buffered have no stored position a page could be continued after: when the conversation
   * has any, the buffer is posted now (the thread stores it before it answers the read that follows), so that
   * they are read, and counted against the page's bytes, like the rest.
   */
  #postBuffered(conversationId: string): void {
    const pending = this.#writer.pending();
    if (!pending.some((row) => row.message.conversation_id === conversationId)) return;
    try {
      this.#writer.flush();
    } catch (error) {
      // The thread is gone for good: the read that follows says so; the buffered rows are lost, said here.
      this.#options.onError?.(error, pending.length);
    }
  }

  #read(request: Omit<Extract<HistoryRequest, { type: 'list' }>, 'type' | 'id'>): Promise<HistoryPage> {
    const worker = this.#worker;
    if (worker === undefined) return Promise.reject(new CaxtonError('UNAVAILABLE', 'the conversation history is not available (its thread stopped; see the node log)'));
    if (this.#reads.size >= MAX_READS_IN_FLIGHT) {
      return Promise.reject(new CaxtonError('UNAVAILABLE', `${MAX_READS_IN_FLIGHT} conversation reads are in progress; retry shortly`));
    }
    const id = this.#nextRead++;
    return new Promise<HistoryPage>((resolve, reject) => {
      this.#reads.set(id, { resolve, reject });
      worker.postMessage({ type: 'list', id, ...request } satisfies HistoryRequest);
    });
  }

  /** A flush: the batch as lines of JSON, posted, unless the thread is gone or too far behind. */
  #post(all: readonly PendingMessage[]): void {
    const ts: number[] = [];
    const conversationIds: string[] = [];
    const texts: string[] = [];
    for (const pending of all) {
      const text = historyTextOf(pending.message);
      // A message that cannot be serialized (content too deep for JSON.stringify) is left out alone: one
      // bad row once took the whole batch, and 20 unrelated conversations, with it.
      if (text === null) {
        this.#options.onError?.(new Error(`conversation ${pending.message.conversation_id}: a message could not be serialized; left out of the history`), 1);
        continue;
      }
      ts.push(pending.ts);
      conversationIds.push(pending.message.conversation_id);
      texts.push(text);
    }
    if (texts.length === 0) return;
    const worker = this.#worker;
    if (worker === undefined) throw new Error('the history thread is not running');
    let bytes = 0;
    for (const text of texts) bytes += text.length;
    const behind = this.#queued > 0 && this.#queuedBytes + bytes > (this.#options.maxQueuedBytes ?? QUEUED_BYTES_MAX);
    if (behind || this.#queued + texts.length > this.#options.maxQueuedRows) {
      this.#droppedUnreported += texts.length;
      this.#reportDropped(false);
      return;
    }
    this.#queued += texts.length;
    this.#queuedBytes += bytes;
    this.#batchBytes.push(bytes);
    worker.postMessage({ type: 'rows', ts, conversationIds, texts } satisfies HistoryRequest);
  }

  /** Says how many rows were dropped for a thread behind: at most once per DROP_REPORT_INTERVAL_MS, or now. */
  #reportDropped(now: boolean): void {
    if (this.#droppedUnreported === 0) return;
    const at = this.#nowMs();
    if (!now && at - this.#droppedReportedAt < DROP_REPORT_INTERVAL_MS) return;
    const dropped = this.#droppedUnreported;
    this.#droppedUnreported = 0;
    this.#droppedReportedAt = at;
    const text = `${this.#queuedBytes} characters queued, bound ${this.#options.maxQueuedBytes ?? QUEUED_BYTES_MAX}`;
    this.#options.onError?.(
      new Error(`the history thread was ${this.#queued} messages behind (bound ${this.#options.maxQueuedRows}): ${dropped} dropped (${text})`),
      dropped,
    );
  }

  #start(): Worker {
    const worker = new Worker(this.#options.entry ?? ENTRY, {
      workerData: {
        dataDir: this.#options.dataDir,
        maxMessages: this.#options.maxMessages,
        maxBytes: this.#options.maxBytes ?? DEFAULTS.state.conversation_max_bytes,
        maxAgeMs: this.#options.maxAgeMs,
      } satisfies HistoryWorkerSetup,
      name: 'caxton-history',
    });
    // Never what keeps a process alive: close() ends it on a stop.
    worker.unref();
    worker.on('message', (reply: HistoryReply) => this.#answer(reply));
    worker.on('error', (error) => this.#options.onError?.(error, 0));
    worker.on('exit', () => this.#exited(worker));
    return worker;
  }

  #answer(reply: HistoryReply): void {
    if (reply.type === 'written') {
      this.#queued -= reply.count;
      this.#queuedBytes -= this.#batchBytes.shift() ?? 0;
      if (reply.error !== undefined) this.#options.onError?.(new Error(`conversation history write failed: ${reply.error}`), reply.count);
    } else if (reply.type === 'listed') {
      const read = this.#reads.get(reply.id);
      if (read === undefined) return;
      this.#reads.delete(reply.id);
      if (reply.texts) read.resolve({ texts: reply.texts, more: reply.more ?? false, ...(reply.last !== undefined ? { last: reply.last } : {}) });
      else read.reject(new CaxtonError('INTERNAL', `reading the conversation history failed: ${reply.error ?? 'no answer'}`));
    }
  }

  /** The thread ended: on close, as asked; otherwise its rows in flight are lost and it starts again. */
  #exited(worker: Worker): void {
    if (this.#closing !== undefined || this.#worker !== worker) return;
    if (this.#queued > 0) this.#options.onError?.(new Error('the history thread exited; messages it had not stored are lost'), this.#queued);
    this.#queued = 0;
    this.#queuedBytes = 0;
    this.#batchBytes.length = 0;
    for (const read of this.#reads.values()) read.reject(new CaxtonError('UNAVAILABLE', 'the conversation history thread restarted; retry'));
    this.#reads.clear();
    const now = this.#nowMs();
    this.#exits.push(now);
    while (this.#exits.length > 0 && this.#exits[0] < now - RESTART_WINDOW_MS) this.#exits.shift();
    if (this.#exits.length > MAX_RESTARTS) {
      this.#worker = undefined;
      this.#options.onError?.(new Error(`the history thread exited ${this.#exits.length} times in ${RESTART_WINDOW_MS / 1000} s; history is off until a restart`), 0);
      return;
    }
    this.#worker = this.#start();
  }
}

/**
 * The history of a node whose `state.conversation_log` is not off: its file made ready (and the history an
 * older Caxton kept in caxton.db moved into it) before the thread starts. Throws what stops a start-up.
 */
export function openConversationLog(
  main: SqliteDatabase,
  options: Omit<ConversationLogOptions, 'maxQueuedRows'> & { maxQueuedRows?: number },
): { log: ConversationLog; movedSegments: number } {
  const movedSegments = prepareHistoryFile(main, options.dataDir);
  // 64 batches: 64,000 messages at the default flush_max_rows, ~16 MB of typical 250-byte lines.
  const log = new ConversationLog({ ...options, maxQueuedRows: options.maxQueuedRows ?? QUEUED_BATCHES_MAX * options.maxBatch });
  return { log, movedSegments };
}
