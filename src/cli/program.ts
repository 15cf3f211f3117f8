// The `caxton` command tree and how a run ends: 0 on success, 1 with one `error: …` line when the
// command failed, 2 when it was called wrongly.
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './cli-error.ts';
import { registerAgentCommands } from './commands/agents.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerClusterCommands } from './commands/cluster.ts';
import { registerConversationCommands } from './commands/conversation.ts';
import { registerMcpCommands } from './commands/mcp.ts';
import { registerMessageCommands } from './commands/message.ts';
import { registerQueueCommands } from './commands/queue.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { loadRunServer, registerServerCommands } from './commands/server.ts';
import { registerToolCommands } from './commands/tools.ts';
import { registerStateCommands } from './commands/state.ts';
import type { CliContext } from './context.ts';
import { withExamples } from './context.ts';
import { CLI_DEFAULTS } from './globals.ts';
import { OUTPUT_FORMATS, processIo } from './output.ts';

export const CLI_VERSION = '0.1.0';

export function buildProgram(context: CliContext): Command {
  const program = new Command('caxton')
    .description('Caxton: a server for multi-agent systems (WebAssembly agents, FIPA-ACL messages, SWIM clustering)')
    .version(CLI_VERSION, '-V, --version')
    .option('--server <url>', `the node's REST API (env CAXTON_SERVER, default ${CLI_DEFAULTS.server})`)
    .option('--api-key <key>', 'API key or JWT (env CAXTON_API_KEY; else <data-dir>/admin.key of a local node)')
    .option('--data-dir <dir>', `data directory of a local node (env CAXTON_DATA_DIR, default ${CLI_DEFAULTS.dataDir})`)
    .option('--cacert <file>', "PEM CA that signed the node's certificate, for an https server (env CAXTON_CACERT)")
    .option('--cert <file>', 'PEM client certificate, to authenticate with it (env CAXTON_CERT; with --key)')
    .option('--key <file>', "PEM private key of --cert (env CAXTON_KEY)")
    .addOption(new Option('--output <format>', 'table for people, json for scripts').choices([...OUTPUT_FORMATS]))
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => context.io.out(s), writeErr: (s) => context.io.err(s) })
    .exitOverride()
    // The contract is one line per error; commander would add a "(Did you mean …)" line.
    .showSuggestionAfterError(false);
  withExamples(program, 'npm start', 'caxton agents list', 'caxton agent deploy echo.wasm --name echo');

  registerServerCommands(program, context);
  registerClusterCommands(program, context);
  registerAgentCommands(program, context);
  registerMessageCommands(program, context);
  registerConversationCommands(program, context);
  registerQueueCommands(program, context);
  registerToolCommands(program, context);
  registerStateCommands(program, context);
  registerMcpCommands(program, context);
  registerBackupCommands(program, context);
  registerAuditCommands(program, context);
  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and answers the exit code. */
export async function runCli(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const context: CliContext = { io: processIo, env: process.env, loadRunServer, ...overrides };
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // commander has already printed its own one-line message (or the help / version asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof CliError) {
      context.io.err(`error: ${error.message}\n`);
      return error.exitCode;
    }
    context.io.err(`error: ${(error as Error).message ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}
