// Keeps the audit log a record of who did what rather than a copy of the request stream. Three kinds of entry:
// - `each`: written as it happens (a deploy, a key created or revoked: rare and each one matters);
// - `count`: routine calls of the message path (POST /api/v1/messages at thousands per second): one row per
//   (principal, action, outcome) per window with the count, instead of one row per message;
// - `flood`: denials, and mutating calls refused as the client's mistake (4xx). The first `eachPerWindow` of
//   one caller in a window are written one by one with their details; the rest of that window become one row
//   per (caller, outcome, reason) with their count, the actions they tried and the addresses they came from
//   (the ten of each that sent most), so a flood of bad credentials leaves a few rows behind, never 100,000,
//   however many addresses it comes from and however many routes and methods it cycles through: a row costs
//   a SQLite insert, an address a map entry. (Counted per action, one address cycling through the ~76
//   (method, route) pairs wrote ~1,500 rows per window, and pushed every earlier denial out in ~11 minutes.)
// Groups, callers, actions and addresses are held in bounded maps (`maxGroups` each); beyond, they share one
// overflow entry.
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
  /** Of the unwritten, how many asked for each action (flood only: its groups are not per action). */
  actions?: Map<string, number>;
}

const OVERFLOW = '\u0000overflow';
/** Addresses named in an aggregated row, those that sent most. */
const TOP_SOURCES = 10;
/** Where the addresses beyond `maxGroups` are counted; shown as such in `top_sources`. */
export const OTHER_SOURCES = 'other';
/** The action of an aggregated row whose entries asked for several; `top_actions` names them. */
export const SEVERAL_ACTIONS = '*';

export class AuditAggregator {
  readonly #options: AuditAggregatorOptions;
  #tallies = new Map<string, Tally>();
  /** Addresses and actions counted this window, each over all tallies (each bounded by maxGroups). */
  #held = { sources: 0, actions: 0 };
  /** Flood entries written one by one this window, per caller (bounded by maxGroups: beyond, none). */
  #writtenBy = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AuditAggregatorOptions) {
    this.#options = options;
  }

  record(entry: AuditEntry, mode: AuditMode): void {
    if (mode === 'each') {
      this.#options.write(entry);
      return;
    }
    const tally = this.#tallyOf(entry, mode);
    tally.seen++;
    if (mode === 'flood' && tally.seen <= this.#options.eachPerWindow && this.#mayWrite(entry.principal)) this.#options.write(entry);
    else {
      tally.unwritten++;
      if (mode === 'flood') {
        const ip = entry.details?.ip;
        if (typeof ip === 'string') this.#count(tally, 'sources', ip);
        this.#count(tally, 'actions', entry.action);
      }
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
    this.#held = { sources: 0, actions: 0 };
    this.#writtenBy = new Map();
    for (const { entry, unwritten, sources, actions } of tallies.values()) {
      if (unwritten === 0) continue;
      const aggregate = { aggregated: true, count: unwritten, window_ms: this.#options.windowMs };
      // The first entry's address and action stand for none of the others: the row names its own.
      const { ip: _first, ...details } = entry.details ?? {};
      const severalActions = actions !== undefined && actions.size > 1;
      const row: AuditEntry = { ...entry, action: actions === undefined ? entry.action : severalActions ? SEVERAL_ACTIONS : [...actions.keys()][0]! };
      // A target belongs to one action.
      if (severalActions) delete row.target;
      const several = severalActions ? actionsOf(actions) : {};
      if (!sources) {
        this.#options.write({ ...row, details: { ...entry.details, ...several, ...aggregate } });
        continue;
      }
      this.#options.write({ ...row, details: { ...details, ...sourcesOf(sources), ...several, ...aggregate } });
    }
  }

  /** One more flood entry of `principal` written one by one this window, while its allowance lasts. */
  #mayWrite(principal: string): boolean {
    const written = this.#writtenBy.get(principal);
    if (written === undefined && this.#writtenBy.size >= this.#options.maxGroups) return false;
    if ((written ?? 0) >= this.#options.eachPerWindow) return false;
    this.#writtenBy.set(principal, (written ?? 0) + 1);
    return true;
  }

  /**
   * One more unwritten entry of `key` among a tally's `kind` (its addresses or its actions). A key the tally
   * has not seen takes one of the window's `maxGroups` places of that kind; beyond, it is counted as OTHER_SOURCES.
   */
  #count(tally: Tally, kind: 'sources' | 'actions', key: string): void {
    const counts = (tally[kind] ??= new Map());
    const known = counts.get(key);
    if (known !== undefined) {
      counts.set(key, known + 1);
      return;
    }
    const counted = this.#held[kind] < this.#options.maxGroups ? key : OTHER_SOURCES;
    if (counted === key) this.#held[kind]++;
    counts.set(counted, (counts.get(counted) ?? 0) + 1);
  }

  #tallyOf(entry: AuditEntry, mode: 'count' | 'flood'): Tally {
    const details = entry.details ?? {};
    // A count stands for entries alike in all but time and address: the same caller, action, outcome and reason
    // (code or status). Not the address: a flood from ever new addresses would cost a row for each. Nor, for a
    // flood, the action: one cycling through every route and method would cost a row for each of those.
    const reason = String(details.code ?? details.status ?? '');
    const key =
      mode === 'flood'
        ? `flood\u0000${entry.principal}\u0000${entry.category ?? ''}\u0000${entry.outcome}\u0000${reason}`
        : `count\u0000${entry.principal}\u0000${entry.action}\u0000${entry.outcome}\u0000${reason}`;
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

/** The actions of an aggregated row that asked for several: how many (`other` counting as one) and the ten most asked. */
function actionsOf(actions: Map<string, number>): Record<string, unknown> {
  const top = [...actions].sort((a, b) => b[1] - a[1]).slice(0, TOP_SOURCES);
  return { actions: actions.size, top_actions: top.map(([action, count]) => ({ action, count })) };
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
