// At most one log line per source address per interval, as memberlist logs its [ERR]s: a hostile or
// misconfigured peer is named to the operator without letting it flood the log. Remembers a bounded
// number of sources; when full, the stalest are forgotten first (at worst one of them is logged again early).
import { AgeOrderedMap } from '../../messaging/age-ordered-map.ts';

export interface SourceLogLimitOptions {
  intervalMs: number;
  maxSources: number;
  now: () => number;
}

export class SourceLogLimit {
  /** Last time a line was let through per source, and what was suppressed since. Insertion order = age. */
  private readonly sources = new AgeOrderedMap<string, { at: number; suppressed: number }>();

  constructor(private readonly options: SourceLogLimitOptions) {}

  /** How many events of `source` were suppressed since its last line, or undefined if this one is too. */
  admit(source: string): number | undefined {
    const now = this.options.now();
    const seen = this.sources.get(source);
    if (seen && now - seen.at < this.options.intervalMs) {
      seen.suppressed++;
      return undefined;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.sources.set(source, { at: now, suppressed: 0 });
    while (this.sources.size > this.options.maxSources && this.sources.shift() !== undefined);
    return suppressed;
  }
}
