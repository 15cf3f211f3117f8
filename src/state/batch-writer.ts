// Group commit for append-only tables on the hot path. One SQLite commit costs 15–30 µs; a hundred rows in
// one transaction cost about as much as three. Rows wait in memory for at most `flushIntervalMs` (or until
// `maxBatch` are waiting) and go to disk in one transaction. What is buffered is lost if the process is
// killed: at most one interval's worth, an accepted trade for logs (dead letters, conversations, audit).

export interface BatchWriterOptions<T> {
  /** Writes the rows; called inside one transaction. */
  write(rows: readonly T[]): void;
  /** Runs `write` in a transaction (the store passes `db.transaction(...)`). */
  transaction(fn: () => void): void;
  /** Longest time a row waits in memory. */
  flushIntervalMs: number;
  /** A burst this large is written at once rather than waiting for the timer. */
  maxBatch: number;
  /** A failed timer-driven flush: its rows are dropped (a log must not grow without bound) and reported here. */
  onError?(error: unknown, dropped: number): void;
}

export class BatchWriter<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly options: BatchWriterOptions<T>;

  constructor(options: BatchWriterOptions<T>) {
    this.options = options;
  }

  push(row: T): void {
    this.buffer.push(row);
    if (this.buffer.length >= this.options.maxBatch) {
      this.flushReporting();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flushReporting();
      }, this.options.flushIntervalMs);
      // A pending flush must not keep a finished process alive; close() flushes what is left.
      this.timer.unref();
    }
  }

  /** Rows not yet written, oldest first; readers merge them so a write is visible at once. */
  pending(): readonly T[] {
    return this.buffer;
  }

  /** Writes everything buffered now, in one transaction; throws what the write throws. */
  flush(): number {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return 0;
    const rows = this.buffer;
    this.buffer = [];
    this.options.transaction(() => this.options.write(rows));
    return rows.length;
  }

  private flushReporting(): void {
    const count = this.buffer.length;
    try {
      this.flush();
    } catch (error) {
      if (this.options.onError) this.options.onError(error, count);
      // Without a handler: a warning, not a crash; losing log rows must not take the node down.
      else process.emitWarning(`caxton: ${count} buffered rows dropped: ${String(error)}`);
    }
  }
}
