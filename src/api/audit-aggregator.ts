// Keeps the audit log a record of who did what rather than a copy of the request stream. Three kinds of entry:
// - `each`: written as it happens (a deploy, a key created or revoked: rare and each one matters);
// - `count`: routine calls of the message path (POST /api/v1/messages at thousands per second): one row per
//   (principal, action, outcome) per window with the count, instead of one row per message;
// - `flood`: denials. The first `eachPerWindow` of one (principal or source, action, reason) in a window are
//   written one by one with their details; the rest of that window become one row with their count, so a
//   flood of bad credentials leaves a few rows behind, never 100,000.
// Counts are held in a bounded map (`maxGroups`); callers beyond it share one overflow row.
import type { AuditEntry } from '../node/services.ts';

export type AuditMode = 'each' | 'count' | 'flood';

export interface AuditAggregatorOptions {
  write(entry: AuditEntry): void;
  windowMs: number;
  eachPerWindow: number;
  maxGroups: number;
}

interface Tally {
  entry: AuditEntry;
  /** Entries seen this window. */
  seen: number;
  /** Of them, not yet written: they go out as one row when the window ends. */
  unwritten: number;
}

const OVERFLOW = '\u0000overflow';

export class AuditAggregator {
  readonly #options: AuditAggregatorOptions;
  #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AuditAggregatorOptions) {
    this.#options = options;
  }

  record(entry: AuditEntry, mode: AuditMode): void {
    if (mode === 'each') {
      this.#options.write(entry);
      return;
    }
    const tally = this.#tallyOf(entry);
    tally.seen++;
    if (mode === 'flood' && tally.seen <= this.#options.eachPerWindow) this.#options.write(entry);
    else tally.unwritten++;
    this.#schedule();
  }

  /** Ends the window: one row per tally with entries not yet written. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const tallies = this.#tallies;
    this.#tallies = new Map();
    for (const { entry, unwritten } of tallies.values()) {
      if (unwritten === 0) continue;
      this.#options.write({
        ...entry,
        details: { ...entry.details, aggregated: true, count: unwritten, window_ms: this.#options.windowMs },
      });
    }
  }

  #tallyOf(entry: AuditEntry): Tally {
    const details = entry.details ?? {};
    // A count stands for entries alike in all but time: the same caller, action, outcome, reason (code or status) and address.
    const reason = String(details.code ?? details.status ?? '');
    const key = `${entry.principal}\u0000${entry.action}\u0000${entry.outcome}\u0000${reason}\u0000${String(details.ip ?? '')}`;
    let tally = this.#tallies.get(key);
    if (tally) return tally;
    if (this.#tallies.size >= this.#options.maxGroups) {
      tally = this.#tallies.get(OVERFLOW);
      if (!tally) {
        tally = { entry: { principal: '*', action: '*', outcome: entry.outcome, details: { overflow: true } }, seen: 0, unwritten: 0 };
        this.#tallies.set(OVERFLOW, tally);
      }
      // Every entry of the overflow is counted, none written alone: its callers are too many to tell apart.
      tally.seen = Math.max(tally.seen, this.#options.eachPerWindow);
      return tally;
    }
    // The first entry stands for the group: its target and details are those of the aggregated row.
    tally = { entry, seen: 0, unwritten: 0 };
    this.#tallies.set(key, tally);
    return tally;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#options.windowMs);
    // A pending window must not keep a finished process alive; close flushes what is left.
    this.#timer.unref();
  }
}
