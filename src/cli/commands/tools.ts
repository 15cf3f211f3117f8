// `caxton tools list [SERVER]`: the MCP servers the node's agents may call, whether each runs, and its
// tools. The server is an argument, not `--server`, which every command already takes as the node's URL.
import type { Command } from 'commander';
import type { ToolServerView } from '../../api/tool-services.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderTable, type Column } from '../output.ts';

const SERVER_COLUMNS: Column<ToolServerView>[] = [
  { header: 'SERVER', value: (s) => s.name },
  { header: 'KIND', value: (s) => s.kind },
  { header: 'STATUS', value: (s) => (s.status === 'restarting' && s.retry_at ? `restarting (next start ${s.retry_at})` : s.status) },
  { header: 'TOOLS', value: (s) => (s.tools.length === 0 ? '-' : s.tools.map((t) => t.name).join(', ')) },
  { header: 'LAST ERROR', value: (s) => s.last_error ?? '-' },
];

export function registerToolCommands(program: Command, context: CliContext): void {
  const tools = program.command('tools').description('the MCP servers (mcp.servers) agents of the node may call');
  withExamples(tools, 'caxton tools list');

  const list = tools
    .command('list')
    .argument('[server]', 'only this server (a name of mcp.servers)')
    .description('servers, their status (not_started, running, restarting with the last error) and their tools')
    .action(async (server: string | undefined, _options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<{ servers: ToolServerView[] }>('GET', '/api/v1/tools', { query: { server }, expect: { servers: 'list' } });
      print.result(body, () => renderTable(SERVER_COLUMNS, body.servers));
    });
  withExamples(list, 'caxton tools list', 'caxton tools list memory --output json');
}
