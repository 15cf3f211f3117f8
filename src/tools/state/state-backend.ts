// Where the state tool keeps values: the node's SQLite (default) or a PostgreSQL shared by the cluster.
// Every method is scoped by agent name; keys of one agent are invisible to another. Values cross this
// interface as JSON text already validated and size-checked by the tool, so a backend stores text as is.
// Each backend enforces the per-agent quota itself (state-quota.ts), in the transaction of the write.
import type { StateUsage } from './state-quota.ts';

/** The values a batch_retrieve asked for are more than it may return at once. */
export class BatchTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the values together are more than the ${maxBytes} bytes allowed in one batch`);
    this.name = 'BatchTooLarge';
  }
}

export interface StateEntry {
  agent: string;
  key: string;
  /** JSON text. */
  value: string;
}

/** How a write meets the agent's quota (state-quota.ts). */
export interface WriteOptions {
  /**
   * False for an operator's import: the entries go in whatever the quota, and are counted in the usage all
   * the same (the agent's own writes that grow its state are then refused until it is back under).
   */
  enforceQuota?: boolean;
}

export interface StateBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** Throws StateQuotaExceeded, having written nothing, when the agent would pass its quota. */
  store(agent: string, key: string, valueJson: string): Promise<void>;
  /** The JSON text, or null when the key is absent. */
  retrieve(agent: string, key: string): Promise<string | null>;
  delete(agent: string, key: string): Promise<boolean>;
  /** Keys starting with `prefix`, in key order, at most `limit`. */
  list(agent: string, prefix: string, limit: number): Promise<string[]>;
  exists(agent: string, key: string): Promise<boolean>;
  /**
   * All or nothing: either every entry is stored or none is. A key given twice keeps its last value. Throws
   * StateQuotaExceeded, having written nothing, when the batch as a whole would pass the agent's quota.
   */
  batchStore(agent: string, entries: Array<{ key: string; valueJson: string }>, options?: WriteOptions): Promise<void>;
  /**
   * Only the keys present appear in the result. Throws BatchTooLarge as soon as the values read pass
   * `maxBytes` (UTF-8 bytes of JSON text, in all), having held at most that plus one value.
   */
  batchRetrieve(agent: string, keys: string[], maxBytes?: number): Promise<Map<string, string>>;
  /** What the agent keeps, as the quota counts it: one row read, never a sum over its keys. */
  usage(agent: string): Promise<StateUsage>;
  /** Every entry (of one agent when given), in (agent, key) order: export and backups. */
  entries(agent?: string): AsyncIterable<StateEntry>;
  close(): Promise<void>;
}
