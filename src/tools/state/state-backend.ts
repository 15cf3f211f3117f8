// Where the state tool keeps values: the node's SQLite (default) or a PostgreSQL shared by the cluster.
// Every method is scoped by agent name; keys of one agent are invisible to another. Values cross this
// interface as JSON text already validated and size-checked by the tool, so a backend stores text as is.

export interface StateEntry {
  agent: string;
  key: string;
  /** JSON text. */
  value: string;
}

export interface StateBackend {
  readonly kind: 'sqlite' | 'postgres';
  store(agent: string, key: string, valueJson: string): Promise<void>;
  /** The JSON text, or null when the key is absent. */
  retrieve(agent: string, key: string): Promise<string | null>;
  delete(agent: string, key: string): Promise<boolean>;
  /** Keys starting with `prefix`, in key order, at most `limit`. */
  list(agent: string, prefix: string, limit: number): Promise<string[]>;
  exists(agent: string, key: string): Promise<boolean>;
  /** All or nothing: either every entry is stored or none is. */
  batchStore(agent: string, entries: Array<{ key: string; valueJson: string }>): Promise<void>;
  /** Only the keys present appear in the result. */
  batchRetrieve(agent: string, keys: string[]): Promise<Map<string, string>>;
  /** Every entry (of one agent when given), in (agent, key) order: export and backups. */
  entries(agent?: string): AsyncIterable<StateEntry>;
  close(): Promise<void>;
}
