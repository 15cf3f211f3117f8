// `caxton state ...`: agents' state tool values for operators (get, put, list, delete, export, import,
// import --from-postgres) and `caxton state serve`, the state tool for any MCP client. Through the node's
// API by default (admin), or on the backend directly with --offline / --config / --postgres-url (see
// state-access.ts); `serve` always opens the backend itself.
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, usageError } from '../cli-error.ts';
import { withExamples, type CliContext } from '../context.ts';
import { Printer } from '../output.ts';
import { withStateAccess } from '../state-access.ts';
import { rowsFromPostgres } from '../../tools/state/import-from-postgres.ts';
import type { ImportCounts } from '../../tools/state/state-import.ts';
import { itemsFromJsonLines } from '../../tools/state/state-json-lines.ts';
import { stateKeyProblem, stateValueJson } from '../../tools/state/state-key.ts';
import { STATE_LIST_MAX_KEYS } from '../../tools/state/state-limits.ts';
import { registerStateServeCommand } from './state-serve.ts';

function checkedKey(key: string): string {
  const problem = stateKeyProblem(key);
  if (problem) throw usageError(`KEY: ${problem}`);
  return key;
}

function agentName(value: string): string {
  if (value.length === 0) throw new InvalidArgumentError('must be a non-empty agent name');
  return value;
}

function printCounts(print: Printer, counts: ImportCounts): void {
  print.result(counts, () =>
    `read ${counts.read}, written ${counts.written}, unchanged ${counts.unchanged}, skipped ${counts.skipped}\n` +
    counts.problems.map((p) => `  skipped ${p}\n`).join(''),
  );
}

export function registerStateCommands(program: Command, context: CliContext): void {
  const state = program
    .command('state')
    .description("agents' values in the state tool: read and change them, export and import them, serve the tool to MCP clients")
    .option('--offline', "not through the node's API: open the data dir's SQLite (--data-dir) directly, the node stopped or running")
    .option('--config <file>', "not through the API: the backend the node's caxton.yaml names (state.backend)")
    .option('--postgres-url <url>', 'not through the API: the values in this PostgreSQL (as state.backend: postgres)');
  withExamples(
    state,
    'caxton state list --agent counter',
    'caxton state get --agent counter total',
    "caxton state put --agent counter total '{\"n\": 1}'",
    'caxton state export > state.jsonl',
    'caxton state import state.jsonl',
    "caxton state import --from-postgres postgres://old-db/app --query 'SELECT id, doc FROM sessions' --agent sessions",
    'caxton state serve --stdio --agent assistant',
  );
  const agentOption = () => new Option('--agent <name>', 'whose keys (the agent name scopes every key)').argParser(agentName).makeOptionMandatory();

  state
    .command('get')
    .description("print the JSON value of an agent's key (exit 1 when absent)")
    .addOption(agentOption())
    .argument('<key>')
    .action(async (key: string, _options: unknown, command: Command) =>
      withStateAccess(command, context, async (access, flags) => {
        const text = await access.get(flags.agent as string, checkedKey(key));
        if (text === null) throw new CliError(`agent ${flags.agent} has no key ${JSON.stringify(key)}`);
        context.io.out(`${flags.output === 'json' ? text : JSON.stringify(JSON.parse(text), null, 2)}\n`);
      }),
    );

  state
    .command('put')
    .description('store a JSON value under an agent\'s key (VALUE is JSON: quote a string, or use --text)')
    .addOption(agentOption())
    .option('--text', 'store VALUE as a JSON string instead of parsing it')
    .argument('<key>')
    .argument('<value>', 'JSON, or - to read it from stdin')
    .action(async (key: string, raw: string, options: { text?: boolean }, command: Command) => {
      checkedKey(key);
      const input = raw === '-' ? await readStdin() : raw;
      let value: unknown = input;
      if (!options.text) {
        try {
          value = JSON.parse(input) as unknown;
        } catch {
          throw usageError(`VALUE: not JSON (quote a string as '"text"', or give --text)`);
        }
      }
      const json = stateValueJson(value);
      if (typeof json !== 'string') throw usageError(`VALUE: ${json.problem}`);
      await withStateAccess(command, context, async (access, flags) => {
        await access.put(flags.agent as string, key, json);
        new Printer(context.io, flags.output ?? 'table').result({ ok: true }, () => `stored ${key} for ${flags.agent}\n`);
      });
    });

  state
    .command('list')
    .description("list an agent's keys, in order")
    .addOption(agentOption())
    .option('--prefix <prefix>', 'only keys starting with this', '')
    .option('--limit <n>', `at most this many (default ${STATE_LIST_MAX_KEYS})`, (v) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < 1) throw new InvalidArgumentError('must be a positive integer');
      return n;
    })
    .action(async (options: { prefix: string; limit?: number }, command: Command) =>
      withStateAccess(command, context, async (access, flags) => {
        const keys = await access.list(flags.agent as string, options.prefix, options.limit ?? STATE_LIST_MAX_KEYS);
        new Printer(context.io, flags.output ?? 'table').result({ keys }, () => (keys.length ? keys.join('\n') + '\n' : `agent ${flags.agent} has no keys${options.prefix ? ` starting with ${options.prefix}` : ''}\n`));
      }),
    );

  state
    .command('delete')
    .description("delete an agent's key (exit 1 when absent)")
    .addOption(agentOption())
    .argument('<key>')
    .action(async (key: string, _options: unknown, command: Command) =>
      withStateAccess(command, context, async (access, flags) => {
        const deleted = await access.delete(flags.agent as string, checkedKey(key));
        if (!deleted) throw new CliError(`agent ${flags.agent} has no key ${JSON.stringify(key)}`);
        new Printer(context.io, flags.output ?? 'table').result({ deleted }, () => `deleted ${key} of ${flags.agent}\n`);
      }),
    );

  const exportCommand = state
    .command('export')
    .description('write every value (or one agent\'s) as JSON lines {"agent", "key", "value"}, in (agent, key) order')
    .option('--agent <name>', 'only this agent', agentName)
    .option('--file <path>', 'write here instead of stdout')
    .action(async (options: { agent?: string; file?: string }, command: Command) =>
      withStateAccess(command, context, async (access) => {
        const file = options.file ? createWriteStream(options.file, { mode: 0o600 }) : null;
        let count = 0;
        // Chunks of JSON lines: whole lines when read directly, cut anywhere when streamed from the API.
        for await (const chunk of access.export(options.agent)) {
          count += chunk.split('\n').length - 1;
          if (!file) context.io.out(chunk);
          else if (!file.write(chunk)) await once(file, 'drain');
        }
        if (file) {
          await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
          context.io.err(`exported ${count} entr${count === 1 ? 'y' : 'ies'} to ${options.file}\n`);
        }
      }),
    );
  withExamples(exportCommand, 'caxton state export > state.jsonl', 'caxton state export --agent counter --file counter.jsonl');

  const importCommand = state
    .command('import')
    .description('store JSON lines from `caxton state export` (or rows of a PostgreSQL query with --from-postgres); safe to re-run: unchanged values are not written')
    .argument('[file]', 'JSON lines to read (- or none: stdin)')
    .option('--agent <name>', 'store every entry for this agent (required with --from-postgres)', agentName)
    .option('--from-postgres <url>', 'read rows from this PostgreSQL instead (the PostgreSQL-era state), with --query')
    .option('--query <sql>', 'with --from-postgres: the SELECT giving one row per key (run read-only)')
    .option('--key-column <name>', 'with --from-postgres: the column of keys (default key, or the first of two columns)')
    .option('--value-column <name>', 'with --from-postgres: the column of values (default value, or the second of two columns)')
    .option('--parse-json', 'with --from-postgres: text values hold JSON text, stored as the JSON they hold (else as strings)')
    .action(
      async (
        file: string | undefined,
        options: { agent?: string; fromPostgres?: string; query?: string; keyColumn?: string; valueColumn?: string; parseJson?: boolean },
        command: Command,
      ) => {
        if (options.fromPostgres) {
          if (file) throw usageError('give either a FILE or --from-postgres, not both');
          if (!options.query) throw usageError('--from-postgres needs --query SQL');
          if (!options.agent) throw usageError('--from-postgres needs --agent NAME: whose state the rows become');
        } else {
          for (const flag of ['query', 'keyColumn', 'valueColumn', 'parseJson'] as const) {
            if (options[flag] !== undefined) throw usageError(`--${flag.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} goes with --from-postgres`);
          }
        }
        await withStateAccess(command, context, async (access, flags) => {
          const items = options.fromPostgres
            ? rowsFromPostgres({
                url: options.fromPostgres,
                query: options.query as string,
                agent: options.agent as string,
                keyColumn: options.keyColumn,
                valueColumn: options.valueColumn,
                parseJsonText: options.parseJson,
              })
            : itemsFromJsonLines(readLines(file), options.agent);
          let counts: ImportCounts;
          try {
            counts = await access.import(items);
          } catch (error) {
            throw new CliError(`import failed: ${(error as Error).message}`);
          }
          printCounts(new Printer(context.io, flags.output ?? 'table'), counts);
        });
      },
    );
  withExamples(
    importCommand,
    'caxton state import state.jsonl',
    'caxton state export --postgres-url postgres://db/caxton | caxton state import --offline --data-dir /var/lib/caxton',
    "caxton state import --from-postgres postgres://old-db/app --query 'SELECT key, value FROM agent_state WHERE owner = $$counter$$' --agent counter",
  );

  registerStateServeCommand(state, context);
}

function readLines(file: string | undefined): AsyncIterable<string> {
  const input = !file || file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  return createInterface({ input, crlfDelay: Infinity });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').trim();
}
