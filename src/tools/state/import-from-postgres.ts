// Reads an existing PostgreSQL table (the PostgreSQL era of agent state) into import items: any read-only
// query, streamed through a server-side cursor so that a large table is never held in memory at once.
import pg from 'pg';
import { stateValueJson } from './state-key.ts';
import type { ImportItem } from './state-import.ts';

/** Rows fetched per round trip from the cursor. */
const FETCH_ROWS = 1000;

export interface PostgresSource {
  url: string;
  /** A SELECT or VALUES query (what DECLARE CURSOR takes), run in a READ ONLY transaction. */
  query: string;
  /** The agent every row is stored for. */
  agent: string;
  /** Column holding the key (default `key`; with two columns and no such name, the first). */
  keyColumn?: string;
  /** Column holding the value (default `value`; with two columns and no such name, the second). */
  valueColumn?: string;
  /**
   * Text values are JSON text to parse (a `text` column that held JSON). Otherwise a text value is stored
   * as a JSON string; json/jsonb columns are JSON already, numbers and booleans stay what they are.
   */
  parseJsonText?: boolean;
  connectTimeoutMs?: number;
}

export async function* rowsFromPostgres(source: PostgresSource): AsyncGenerator<ImportItem> {
  const client = new pg.Client({ connectionString: source.url, connectionTimeoutMillis: source.connectTimeoutMs ?? 10_000, application_name: 'caxton-state-import' });
  client.on('error', () => {});
  await client.connect();
  try {
    // READ ONLY: the migration never changes the database it reads from, whatever the query says.
    await client.query('BEGIN TRANSACTION READ ONLY');
    await client.query(`DECLARE caxton_import NO SCROLL CURSOR FOR ${source.query}`);
    let columns: { key: string; value: string } | null = null;
    for (;;) {
      const result = await client.query(`FETCH ${FETCH_ROWS} FROM caxton_import`);
      columns ??= pickColumns(result.fields.map((f) => f.name), source);
      for (const row of result.rows as Record<string, unknown>[]) yield toItem(row, columns, source);
      if (result.rows.length < FETCH_ROWS) break;
    }
    await client.query('COMMIT');
  } finally {
    await client.end().catch(() => {});
  }
}

function pickColumns(names: string[], source: PostgresSource): { key: string; value: string } {
  const positional = names.length === 2 && !source.keyColumn && !source.valueColumn && !(names.includes('key') && names.includes('value'));
  const key = source.keyColumn ?? (positional ? names[0] : 'key');
  const value = source.valueColumn ?? (positional ? names[1] : 'value');
  for (const [flag, name] of [['--key-column', key], ['--value-column', value]] as const) {
    if (!names.includes(name)) throw new Error(`the query returns no column '${name}' (${flag}); its columns: ${names.join(', ') || 'none'}`);
  }
  return { key, value };
}

function toItem(row: Record<string, unknown>, columns: { key: string; value: string }, source: PostgresSource): ImportItem {
  const rawKey = row[columns.key];
  if (rawKey === null || rawKey === undefined) return { problem: 'the key is NULL' };
  const key = String(rawKey);
  let value = row[columns.value];
  if (source.parseJsonText && typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return { problem: `key ${JSON.stringify(key)}: the value is not JSON text` };
    }
  }
  if (value instanceof Buffer) value = value.toString('base64');
  const valueJson = stateValueJson(value);
  if (typeof valueJson !== 'string') return { problem: `key ${JSON.stringify(key)}: ${valueJson.problem}` };
  return { agent: source.agent, key, valueJson };
}
