// The state backend contract on the node's SQLite (migration 3's agent_state table, migration 4's usage).
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../src/state/database.ts';
import { openStateBackend } from '../../src/tools/state/open-state-backend.ts';
import { createSqliteStateBackend } from '../../src/tools/state/sqlite-state-backend.ts';
import type { StateBackend } from '../../src/tools/state/state-backend.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { tempDir } from '../state/helpers.ts';
import { stateBackendContract } from './state-backend-contract.ts';

const dir = tempDir();
let database: Database;
let backend: StateBackend;

beforeAll(async () => {
  database = openDatabase(dir.path);
  backend = await openStateBackend(DEFAULTS, database.db);
});

afterAll(async () => {
  await backend?.close();
  database?.close();
  dir.remove();
});

stateBackendContract('sqlite', {
  backend: () => backend,
  backendWithQuota: async (quota) => createSqliteStateBackend(database.db, quota),
});
