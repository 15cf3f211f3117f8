// `caxton state serve`: the state tool, on the node's state backend, for any MCP client (desktop apps,
// other agent frameworks). One process serves one agent's keys (--agent): the client acts as that agent,
// so what it stores is what the agent of that name reads through the node, and nothing else.
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { formatHostPort, isLoopbackHost, parseHostPort, type HostPort } from '../../config/host-port.ts';
import { CliError, usageError } from '../cli-error.ts';
import { withExamples, type CliContext } from '../context.ts';
import { createStateToolServer } from '../../tools/state/state-tool.ts';
import { serveStateHttp, serveStateStdio } from '../../tools/state/state-mcp-server.ts';
import { withStateBackend } from '../state-backend-session.ts';

function hostPort(value: string): HostPort {
  const parsed = parseHostPort(value);
  if (!parsed) throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:8090');
  return parsed;
}

export function registerStateServeCommand(state: Command, context: CliContext): void {
  const serve = state
    .command('serve')
    .description('serve the state tool over MCP (stdio or streamable HTTP) with one agent\'s keys')
    .addOption(new Option('--agent <name>', 'the agent whose keys the client reads and writes').makeOptionMandatory())
    .option('--stdio', 'speak MCP on stdin/stdout (for clients that start the server)')
    .option('--http <host:port>', 'serve MCP over streamable HTTP at http://HOST:PORT/mcp', hostPort)
    .option('--bearer-token-file <file>', 'with --http: require Authorization: Bearer <the file\'s content>; required off loopback')
    .action(async (options: { agent: string; stdio?: boolean; http?: HostPort; bearerTokenFile?: string }, command: Command) => {
      if (!options.agent) throw usageError('--agent: expected a non-empty agent name');
      if (!options.stdio === !options.http) throw usageError('give exactly one of --stdio and --http HOST:PORT');
      let bearerToken: string | undefined;
      if (options.bearerTokenFile) {
        if (!options.http) throw usageError('--bearer-token-file goes with --http');
        try {
          bearerToken = (await readFile(options.bearerTokenFile, 'utf8')).trim();
        } catch (error) {
          throw new CliError(`cannot read --bearer-token-file ${options.bearerTokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
        if (bearerToken.length < 16) throw usageError('--bearer-token-file: the token must be at least 16 characters');
      }
      if (options.http && !isLoopbackHost(options.http.host) && !bearerToken) {
        throw usageError(`--http ${formatHostPort(options.http)} is reachable from the network: give --bearer-token-file, or bind 127.0.0.1`);
      }
      await withStateBackend(command, context, async ({ backend, where }) => {
        const tools = createStateToolServer(backend);
        // stdout is the MCP channel with --stdio: everything for people goes to stderr.
        if (options.stdio) {
          const { closed } = await serveStateStdio(tools, options.agent);
          context.io.err(`caxton state: serving agent ${options.agent}'s state (${where}) over stdio\n`);
          await closed;
          return;
        }
        const http = await serveStateHttp(tools, options.agent, { ...(options.http as HostPort), bearerToken });
        context.io.err(`caxton state: serving agent ${options.agent}'s state (${where}) at ${http.url}\n`);
        await untilStopped(context);
        await http.close();
      });
    });
  withExamples(
    serve,
    'caxton state serve --stdio --agent assistant --data-dir /var/lib/caxton',
    'caxton state serve --http 127.0.0.1:8090 --agent assistant',
    'caxton state serve --http 0.0.0.0:8090 --agent assistant --bearer-token-file /etc/caxton/state.token --postgres-url postgres://db/caxton',
  );
}

async function untilStopped(context: CliContext): Promise<void> {
  const signals = [once(process, 'SIGINT'), once(process, 'SIGTERM')];
  const interrupted = context.interrupt ? [once(context.interrupt, 'abort')] : [];
  await Promise.race([...signals, ...interrupted]);
}
