// Picks the state tool's backend from the configuration: the node's own SQLite unless state.backend says
// postgres, with the per-agent quota (state.max_keys_per_agent, state.max_bytes_per_agent). The caller (the
// tool gateway, `caxton state ...`) owns the returned backend and closes it.
import type { Config } from '../../config/config.ts';
import type { SqliteDatabase } from '../../state/database.ts';
import { openPostgresStateBackend } from './postgres-state-backend.ts';
import { createSqliteStateBackend } from './sqlite-state-backend.ts';
import type { StateBackend } from './state-backend.ts';
import type { StateQuota } from './state-quota.ts';

/** The keys this needs; a whole Config fits. */
export interface StateBackendConfig {
  readonly state: Pick<Config['state'], 'backend' | 'postgres_url' | 'postgres_pool_max' | 'postgres_connect_timeout_ms' | 'max_keys_per_agent' | 'max_bytes_per_agent'>;
}

/**
 * `sqliteDatabase` is the node's open database (Database.db), already migrated; it is used only with the
 * sqlite backend and never closed here. Rejects when PostgreSQL cannot be reached or its table created.
 */
export async function openStateBackend(config: StateBackendConfig, sqliteDatabase: SqliteDatabase | undefined): Promise<StateBackend> {
  const { state } = config;
  const quota: StateQuota = { maxKeys: state.max_keys_per_agent, maxBytes: state.max_bytes_per_agent };
  if (state.backend === 'postgres') {
    if (!state.postgres_url) throw new Error('state.backend is postgres but state.postgres_url is not set');
    return openPostgresStateBackend({
      url: state.postgres_url,
      poolMax: state.postgres_pool_max,
      connectTimeoutMs: state.postgres_connect_timeout_ms,
      quota,
    });
  }
  if (!sqliteDatabase) throw new Error('state.backend is sqlite but no SQLite database was given');
  return createSqliteStateBackend(sqliteDatabase, quota);
}
