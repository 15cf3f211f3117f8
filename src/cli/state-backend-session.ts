// Opens the state backend a node uses, for `caxton state ...`: the node's configuration (--config,
// CAXTON_* env) says sqlite or postgres; SQLite is the node's <data-dir>/caxton.db, which WAL mode lets
// these commands read and write while the node runs; PostgreSQL is the database the cluster shares.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { DATABASE_FILE, openDatabase, type Database } from '../state/database.ts';
import { openStateBackend } from '../tools/state/open-state-backend.ts';
import type { StateBackend } from '../tools/state/state-backend.ts';
import type { Command } from 'commander';
import { CliError } from './cli-error.ts';
import type { CliContext } from './context.ts';
import type { OutputFormat } from './output.ts';

export interface StateBackendFlags {
  config?: string;
  dataDir?: string;
  postgresUrl?: string;
}

export interface OpenedStateBackend {
  backend: StateBackend;
  /** Where the values are, for messages: the database file or the PostgreSQL host. */
  where: string;
  close(): Promise<void>;
}

export async function openCliStateBackend(flags: StateBackendFlags, env: NodeJS.ProcessEnv): Promise<OpenedStateBackend> {
  let config;
  try {
    config = loadConfig({
      env,
      flags: {
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
        ...(flags.postgresUrl ? { 'state.backend': 'postgres', 'state.postgres_url': flags.postgresUrl } : {}),
      },
    });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  if (config.state.backend === 'postgres') {
    const url = new URL(config.state.postgres_url as string);
    const where = `postgres://${url.host}${url.pathname}`;
    try {
      const backend = await openStateBackend(config, undefined);
      return { backend, where, close: () => backend.close() };
    } catch (error) {
      throw new CliError(`${where}: ${(error as Error).message}`);
    }
  }
  const dataDir = config.node.data_dir;
  const file = join(dataDir, DATABASE_FILE);
  // openDatabase would create an empty data dir: a mistyped --data-dir must be an error instead.
  if (!existsSync(file)) throw new CliError(`no node database at ${file}: give the node's --data-dir (or --config, or --postgres-url)`);
  let database: Database;
  try {
    database = openDatabase(dataDir);
  } catch (error) {
    throw new CliError(`cannot open ${file}: ${(error as Error).message}`);
  }
  const backend = await openStateBackend(config, database.db);
  return {
    backend,
    where: file,
    async close() {
      await backend.close();
      database.close();
    },
  };
}

export interface StateCommandFlags extends StateBackendFlags {
  agent?: string;
  output?: OutputFormat;
}

/** Runs `work` on the backend the command's flags name, and always closes it. */
export async function withStateBackend<T>(
  command: Command,
  context: CliContext,
  work: (opened: OpenedStateBackend, flags: StateCommandFlags) => Promise<T>,
): Promise<T> {
  const flags = command.optsWithGlobals<StateCommandFlags>();
  const opened = await openCliStateBackend(flags, context.env);
  try {
    return await work(opened, flags);
  } finally {
    await opened.close();
  }
}
