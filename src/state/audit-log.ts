// Who did what: every mutating call and every denied call (interfaces.md, Authentication). Writes are
// group-committed (a flood of denied calls must not cost a commit each) and the table is bounded: the
// oldest rows go once `maxRows` is reached.
import type { AuditEntry } from '../node/services.ts';
import { BatchWriter } from './batch-writer.ts';
import type { Database } from './database.ts';

export interface AuditRecord extends AuditEntry {
  id: number;
  ts: string;
}

export interface AuditLogOptions {
  maxRows: number;
  flushIntervalMs: number;
  maxBatch: number;
  now?: () => Date;
  onError?(error: unknown, dropped: number): void;
}

interface AuditRow {
  id: number;
  ts: string;
  principal: string;
  action: string;
  target: string | null;
  outcome: AuditEntry['outcome'];
  details: string | null;
}

function fromRow(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    ts: row.ts,
    principal: row.principal,
    action: row.action,
    ...(row.target !== null ? { target: row.target } : {}),
    outcome: row.outcome,
    ...(row.details !== null ? { details: JSON.parse(row.details) as Record<string, unknown> } : {}),
  };
}

export class AuditLog {
  private readonly writer: BatchWriter<AuditRecord>;
  private readonly selectRecent;
  private readonly now: () => Date;
  private nextId: number;

  constructor(database: Database, options: AuditLogOptions) {
    const { db } = database;
    this.now = options.now ?? (() => new Date());
    this.nextId = ((db.prepare('SELECT max(id) FROM audit_log').pluck().get() as number | null) ?? 0) + 1;
    const insert = db.prepare(
      'INSERT INTO audit_log (id, ts, principal, action, target, outcome, details) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const prune = db.prepare('DELETE FROM audit_log WHERE id <= ?');
    this.selectRecent = db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?');
    this.writer = new BatchWriter<AuditRecord>({
      transaction: (fn) => db.transaction(fn)(),
      write: (rows) => {
        for (const r of rows) {
          insert.run(r.id, r.ts, r.principal, r.action, r.target ?? null, r.outcome, r.details ? JSON.stringify(r.details) : null);
        }
        prune.run(rows[rows.length - 1].id - options.maxRows);
      },
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      onError: options.onError,
    });
    database.onClose(() => this.writer.flush());
  }

  append(entry: AuditEntry): AuditRecord {
    const record: AuditRecord = { ...entry, id: this.nextId++, ts: this.now().toISOString() };
    this.writer.push(record);
    return record;
  }

  /** The most recent `limit` entries, newest first (buffered ones included). */
  list(limit = 100): AuditRecord[] {
    const pending = this.writer.pending();
    const result: AuditRecord[] = [];
    for (let i = pending.length - 1; i >= 0 && result.length < limit; i--) result.push(pending[i]);
    if (result.length < limit) {
      for (const row of this.selectRecent.all(limit - result.length) as AuditRow[]) result.push(fromRow(row));
    }
    return result;
  }

  flush(): void {
    this.writer.flush();
  }
}
