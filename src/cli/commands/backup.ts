// `caxton backup create FILE` saves an online backup of a running node through its API (as `consul snapshot
// save` does); `caxton backup restore FILE --data-dir DIR` makes it the database of a stopped or new node.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { BackupFacts } from '../../state/database-backup.ts';
import { CliError } from '../cli-error.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import type { GlobalFlags } from '../globals.ts';
import { Printer } from '../output.ts';

/** Loaded when a backup command runs: every other command starts without the SQLite driver. */
const databaseBackup = () => import('../../state/database-backup.ts');

function describe(facts: BackupFacts): string {
  return `node ${facts.nodeId || '-'}, ${facts.agents} agent${facts.agents === 1 ? '' : 's'}, ${facts.apiKeys} API key${facts.apiKeys === 1 ? '' : 's'}, schema ${facts.schemaVersion}`;
}

export function registerBackupCommands(program: Command, context: CliContext): void {
  const backup = program.command('backup').description("back up a node's database, and restore one into a data dir");
  withExamples(backup, 'caxton backup create caxton.db.bak', 'caxton backup restore caxton.db.bak --data-dir ./new-node');

  const create = backup
    .command('create')
    .description('save an online backup of a running node (admin key), consistent while it serves')
    .argument('<file>', 'where to write the backup (replaced if it exists)')
    .action(async (file: string, _options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { BackupFileError, checkBackupFile } = await databaseBackup();
      const response = await client.download('/api/v1/backup');
      // Written beside FILE under another name and renamed once whole: FILE is never half a backup.
      const partial = `${file}.partial`;
      try {
        await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o600 }));
        const facts = checkBackupFile(partial);
        await rename(partial, file);
        print.result({ file, ...facts }, () => `backup written to ${file} (${describe(facts)})\n`);
      } catch (error) {
        await rm(partial, { force: true });
        if (error instanceof BackupFileError) throw new CliError(`the node sent something that is not a whole backup: ${error.message}`);
        throw error;
      }
    });
  withExamples(create, 'caxton backup create caxton.db.bak', 'caxton --server http://10.0.0.5:8080 --api-key $KEY backup create node-a.db');

  const restore = backup
    .command('restore')
    .description('make a backup the database of a stopped or new node (--data-dir is required)')
    .argument('<file>', 'a backup written by `caxton backup create` or a scheduled backup')
    .option('--force', 'replace the database of a data dir that has files (stop its node first)')
    .action(async (file: string, options: { force?: boolean }, command: Command) => {
      const flags = command.optsWithGlobals<GlobalFlags>();
      // The global default (./.caxton) is fine for reading a key, not for overwriting a database: ask.
      const dataDir = flags.dataDir ?? context.env.CAXTON_DATA_DIR;
      if (!dataDir) throw new CliError('name the data dir to restore into with --data-dir DIR', 2);
      const print = new Printer(context.io, flags.output ?? 'table');
      const { BackupFileError, restoreDatabase } = await databaseBackup();
      let facts: BackupFacts;
      try {
        facts = restoreDatabase(file, dataDir, { force: options.force });
      } catch (error) {
        if (error instanceof BackupFileError) throw new CliError(error.message);
        throw error;
      }
      print.result({ file, data_dir: dataDir, ...facts }, () =>
        `restored ${file} into ${dataDir} (${describe(facts)})\n` +
        `start the node with: caxton server start --data-dir ${dataDir}\n` +
        'admin.key is not in a backup: a data dir without one gets a new admin key at start (the other API keys keep working)\n',
      );
    });
  withExamples(restore, 'caxton backup restore caxton.db.bak --data-dir ./restored', 'caxton backup restore nightly.db --data-dir ./.caxton --force');
}
