// Keeps the audit log a record of who did what rather than a copy of the request stream. Three kinds of entry:
// - `each`: written as it happens (a deploy, a key created or revoked: rare and each one matters);
// - `count`: routine calls of the message path (POST /api/v1/messages at thousands per second): one row per
//   (principal, action, outcome) per window with the count, instead of one row per message;
// - `flood`: denials. The first `eachPerWindow` of one (principal, action, reason) in a window are written one
//   by one with their details; the rest of that window become one row with their count and the addresses they
//   came from (the ten that sent most), so a flood of bad credentials leaves a few rows behind, never 100,000,
//   however many addresses it comes from: a row costs a SQLite insert, an address a map entry.
// Groups and addresses are held in bounded maps (`maxGroups` each); beyond, they share one overflow entry.
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
  /** Of the unwritten, how many came from each address (`details.ip`), for entries that carry one. */
  sources?: Map<string, number>;
}

const OVERFLOW = '\u0000overflow';
/** Addresses named in an aggregated row, those that sent most. */
const TOP_SOURCES = 10;
/** Where the addresses beyond `maxGroups` are counted; shown as such in `top_sources`. */
export const OTHER_SOURCES = 'other';

export class AuditAggregator {
  readonly #options: AuditAggregatorOptions;
  #tallies = new Map<string, Tally>();
  /** Addresses counted this window, over all tallies (bounded by maxGroups). */
  #sourcesHeld = 0;
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
    else {
      tally.unwritten++;
      const ip = entry.details?.ip;
      if (mode === 'flood' && typeof ip === 'string') this.#countSource(tally, ip);
    }
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
    this.#sourcesHeld = 0;
    for (const { entry, unwritten, sources } of tallies.values()) {
      if (unwritten === 0) continue;
      const aggregate = { aggregated: true, count: unwritten, window_ms: this.#options.windowMs };
      if (!sources) {
        this.#options.write({ ...entry, details: { ...entry.details, ...aggregate } });
        continue;
      }
      // The first entry's address stands for none of the others: the row names its own.
      const { ip: _first, ...details } = entry.details ?? {};
      this.#options.write({ ...entry, details: { ...details, ...sourcesOf(sources), ...aggregate } });
    }
  }

  #countSource(tally: Tally, ip: string): void {
    const sources = (tally.sources ??= new Map());
    const known = sources.get(ip);
    if (known !== undefined) {
      sources.set(ip, known + 1);
      return;
    }
    const key = this.#sourcesHeld < this.#options.maxGroups ? ip : OTHER_SOURCES;
    if (key === ip) this.#sourcesHeld++;
    sources.set(key, (sources.get(key) ?? 0) + 1);
  }

  #tallyOf(entry: AuditEntry): Tally {
    const details = entry.details ?? {};
    // A count stands for entries alike in all but time and address: the same caller, action, outcome and reason
    // (code or status). Not the address: a flood from ever new addresses would cost a row for each.
    const reason = String(details.code ?? details.status ?? '');
    const key = `${entry.principal}\u0000${entry.action}\u0000${entry.outcome}\u0000${reason}`;
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

/**
 * The addresses of an aggregated row: `ip` when they are one, else how many (`other` counting as one: there were
 * more) and the ten that sent most.
 */
function sourcesOf(sources: Map<string, number>): Record<string, unknown> {
  if (sources.size === 1) {
    const [ip] = sources.keys();
    if (ip !== OTHER_SOURCES) return { ip };
  }
  const top = [...sources].sort((a, b) => b[1] - a[1]).slice(0, TOP_SOURCES);
  return { sources: sources.size, top_sources: top.map(([ip, count]) => ({ ip, count })) };
}
