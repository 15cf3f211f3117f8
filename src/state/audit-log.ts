// Who did what: every mutating call and every denied call (interfaces.md, Authentication). Writes are
// group-committed (a flood of denied calls must not cost a commit each) and bounded per category (security,
// denial, request), by rows and by age: the oldest rows of a category go once its budget is reached, so request
// noise or a flood of denials never pushes out the record of who created or revoked a key.
import { BatchWriter } from './batch-writer.ts';
import type { Database } from './database.ts';

export type AuditCategory = 'security' | 'denial' | 'request';

export interface AuditEntry {
  principal: string;
  action: string;
  target?: string;
  outcome: 'ok' | 'denied' | 'error';
  details?: Record<string, unknown>;
  /**
   * Each category has its own retention budget (state.audit_*), so one kind of event never pushes out another:
   * `security` is key creation and revocation and keyring changes (who holds access), `denial` a refused call
   * (401/403/429, aggregated when they flood), `request` every other call. Absent means `request`.
   */
  category?: AuditCategory;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  ts: string;
}

export interface AuditLogOptions {
  /** Rows kept of category `request`. */
  maxRows: number;
  /** Rows kept of categories `denial` and `security`; default maxRows. */
  maxDenialRows?: number;
  maxSecurityRows?: number;
  /** Rows of `request` and `denial` older than this go; default: kept until pushed out by size. */
  maxAgeMs?: number;
  /** Rows of `security` older than this go. */
  maxSecurityAgeMs?: number;
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
  category: AuditCategory;
}

/** What `caxton audit list|export` and GET /api/v1/audit select; every field narrows. */
export interface AuditFilter {
  /** Entries at or after this RFC 3339 time. */
  since?: string;
  /** Exactly this principal (an API key's name, `agent:<name>`, `anonymous`, `unauthenticated`). */
  principal?: string;
  /** Actions containing this text, case-insensitive (`DELETE /api/v1/agents`, `agents`, `call_tool`). */
  action?: string;
  /** Only denied calls. */
  denied?: boolean;
  /** Newest first, entries with an id below this (paging backwards). */
  beforeId?: number;
  /** Oldest first, entries with an id above this (exporting forwards). */
  afterId?: number;
}

const CATEGORIES: readonly AuditCategory[] = ['security', 'denial', 'request'];
/** Age pruning is a range delete on an index: once a minute is plenty for budgets counted in days. */
const AGE_PRUNE_INTERVAL_MS = 60_000;

function fromRow(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    ts: row.ts,
    principal: row.principal,
    action: row.action,
    ...(row.target !== null ? { target: row.target } : {}),
    outcome: row.outcome,
    ...(row.details !== null ? { details: JSON.parse(row.details) as Record<string, unknown> } : {}),
    ...(row.category !== 'request' ? { category: row.category } : {}),
  };
}

export class AuditLog {
  private readonly writer: BatchWriter<AuditRecord>;
  private readonly selectRecent;
  private readonly now: () => Date;
  private nextId: number;
  /** Rows per category in the table, kept in step with every insert and delete. */
  private readonly counts = new Map<AuditCategory, number>();
  private lastAgePrune = -Infinity;
  private readonly db: Database['db'];

  constructor(database: Database, options: AuditLogOptions) {
    const { db } = database;
    this.db = db;
    this.now = options.now ?? (() => new Date());
    this.nextId = ((db.prepare('SELECT max(id) FROM audit_log').pluck().get() as number | null) ?? 0) + 1;
    const insert = db.prepare(
      'INSERT INTO audit_log (id, ts, principal, action, target, outcome, details, category) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const pruneOldest = db.prepare(
      'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE category = ? ORDER BY id LIMIT ?)',
    );
    const pruneOlderThan = db.prepare('DELETE FROM audit_log WHERE category = ? AND ts < ?');
    this.selectRecent = db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?');
    const countByCategory = db.prepare('SELECT category, count(*) AS n FROM audit_log GROUP BY category');
    // From the table, not from what was written: a failed (rolled back) batch must not leave the counts off.
    const recount = (): void => {
      for (const category of CATEGORIES) this.counts.set(category, 0);
      for (const row of countByCategory.all() as { category: AuditCategory; n: number }[]) this.counts.set(row.category, row.n);
    };
    recount();
    const maxRows: Record<AuditCategory, number> = {
      request: options.maxRows,
      denial: options.maxDenialRows ?? options.maxRows,
      security: options.maxSecurityRows ?? options.maxRows,
    };
    const maxAge: Record<AuditCategory, number | undefined> = {
      request: options.maxAgeMs,
      denial: options.maxAgeMs,
      security: options.maxSecurityAgeMs,
    };
    const ageLimited = CATEGORIES.some((category) => maxAge[category] !== undefined);
    const pruneByAge = (): void => {
      if (!ageLimited) return;
      const now = this.now().getTime();
      if (now - this.lastAgePrune < AGE_PRUNE_INTERVAL_MS) return;
      this.lastAgePrune = now;
      for (const category of CATEGORIES) {
        const age = maxAge[category];
        if (age === undefined) continue;
        const removed = pruneOlderThan.run(category, new Date(now - age).toISOString()).changes;
        this.counts.set(category, this.counts.get(category)! - removed);
      }
    };
    this.writer = new BatchWriter<AuditRecord>({
      transaction: (fn) => db.transaction(fn)(),
      write: (rows) => {
        for (const r of rows) {
          const category = r.category ?? 'request';
          insert.run(r.id, r.ts, r.principal, r.action, r.target ?? null, r.outcome, r.details ? JSON.stringify(r.details) : null, category);
          this.counts.set(category, this.counts.get(category)! + 1);
        }
        for (const category of CATEGORIES) {
          const over = this.counts.get(category)! - maxRows[category];
          if (over > 0) this.counts.set(category, this.counts.get(category)! - pruneOldest.run(category, over).changes);
        }
        pruneByAge();
      },
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      onError: (error, dropped) => {
        try {
          recount();
        } catch {
          // The database is failing as a whole; the next start counts again.
        }
        options.onError?.(error, dropped);
      },
    });
    db.transaction(pruneByAge)();
    database.onClose(() => this.writer.flush());
  }

  append(entry: AuditEntry): AuditRecord {
    const record: AuditRecord = { ...entry, id: this.nextId++, ts: this.now().toISOString() };
    this.writer.push(record);
    return record;
  }

  /**
   * Entries matching `filter`, at most `limit`: newest first, or oldest first with `afterId` (export). Buffered
   * entries are written first so that what was just done shows. Built per call: not on any hot path.
   */
  query(filter: AuditFilter, limit: number): AuditRecord[] {
    this.writer.flush();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.since !== undefined) {
      where.push('ts >= ?');
      params.push(new Date(filter.since).toISOString());
    }
    if (filter.principal !== undefined) {
      where.push('principal = ?');
      params.push(filter.principal);
    }
    if (filter.action !== undefined) {
      where.push('instr(lower(action), lower(?)) > 0');
      params.push(filter.action);
    }
    if (filter.denied) where.push("outcome = 'denied'");
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      params.push(filter.beforeId);
    }
    if (filter.afterId !== undefined) {
      where.push('id > ?');
      params.push(filter.afterId);
    }
    const order = filter.afterId !== undefined ? 'ASC' : 'DESC';
    const sql = `SELECT * FROM audit_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`;
    return (this.db.prepare(sql).all(...params, limit) as AuditRow[]).map(fromRow);
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
