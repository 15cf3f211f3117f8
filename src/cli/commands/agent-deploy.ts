// `caxton agent deploy`: deploy a module, or upgrade the agent in place when the name already exists.
import { readFile } from 'node:fs/promises';
import { formatBytes, Progress } from '../progress.ts';
import type { Command } from 'commander';
import type { AgentInfo, ToolGrants } from '../../node/services.ts';
import { ApiError, CliError } from '../cli-error.ts';
import { collect, positiveInt, sessionFor, withExamples, type CliContext } from '../context.ts';
import { AGENT, agentPath, describeAgent } from './agent-view.ts';

interface DeployOptions {
  name: string;
  capability?: string[];
  tool?: string[];
  memoryPages?: number;
  fuel?: number;
  mailbox?: number;
  node?: string;
  failover?: 'move' | 'wait';
}

/** `--tool server` grants every tool of the server, `--tool server/tool` one tool; '*' absorbs the rest. */
export function toolGrants(tools: string[]): ToolGrants {
  const grants: ToolGrants = {};
  for (const entry of tools) {
    const slash = entry.indexOf('/');
    const server = slash < 0 ? entry : entry.slice(0, slash);
    const tool = slash < 0 ? '' : entry.slice(slash + 1);
    if (!server) throw new CliError(`--tool '${entry}': expected SERVER or SERVER/TOOL`, 2);
    const current = grants[server];
    if (!tool || tool === '*') grants[server] = '*';
    else if (current !== '*') grants[server] = [...(current ?? []), tool];
  }
  return grants;
}

function deployBody(options: DeployOptions, module: Buffer): Record<string, unknown> {
  const limits = {
    ...(options.memoryPages !== undefined ? { memory_pages: options.memoryPages } : {}),
    ...(options.fuel !== undefined ? { fuel: options.fuel } : {}),
    ...(options.mailbox !== undefined ? { mailbox: options.mailbox } : {}),
  };
  return {
    name: options.name,
    module: module.toString('base64'),
    ...(options.capability ? { capabilities: options.capability } : {}),
    ...(options.tool ? { tools: toolGrants(options.tool) } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(options.node ? { node: options.node } : {}),
    ...(options.failover ? { failover: options.failover } : {}),
  };
}

/**
 * Only "that name exists" turns a deploy into an upgrade; any other conflict (the agent is being changed by
 * another request, ...) is the user's to see. A node that predates `details.reason` says it in words.
 */
function isAlreadyDeployed(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.status !== 409) return false;
  const reason = error.details?.reason;
  return reason === undefined ? /already exists/.test(error.apiMessage) : reason === 'exists';
}

/** Modules from this size on show upload progress (1 MiB: about a second over a slow link). */
const PROGRESS_ABOVE_BYTES = 1024 * 1024;

export function registerAgentDeploy(agent: Command, context: CliContext): void {
  const deploy = agent
    .command('deploy')
    .description('deploy a WebAssembly agent, or upgrade it in place if an agent of that name exists')
    .argument('<file.wasm>', 'the agent module')
    .requiredOption('--name <name>', 'agent name (lower case letters, digits, . _ -)')
    .option('--capability <cap>', 'a capability the agent advertises (repeatable)', collect)
    .option('--tool <server[/tool]>', 'an MCP tool grant: a whole server or one of its tools (repeatable)', collect)
    .option('--memory-pages <n>', 'linear memory ceiling in 64 KiB pages', positiveInt)
    .option('--fuel <n>', 'instruction budget of one invocation', positiveInt)
    .option('--mailbox <n>', 'messages that may wait before senders get MAILBOX_FULL', positiveInt)
    .option('--node <id>', 'pin the agent to this node')
    .option('--failover <move|wait>', 'when its node dies: move to the new owner, or wait for the node (default: move unpinned, wait pinned)', (v: string) => {
      if (v !== 'move' && v !== 'wait') throw new CliError(`--failover: expected move or wait, got '${v}'`, 2);
      return v;
    })
    .action(async (file: string, options: DeployOptions, command: Command) => {
      let module: Buffer;
      try {
        module = await readFile(file);
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const body = deployBody(options, module);
      const { client, print } = await sessionFor(command, context);
      let action: 'deployed' | 'upgraded' = 'deployed';
      let agentInfo: AgentInfo;
      // A large module takes seconds to send and more to instrument on the node: say where it is (on a terminal).
      const progress = module.length >= PROGRESS_ABOVE_BYTES ? new Progress('tty-only') : undefined;
      const started = Date.now();
      let ticker: NodeJS.Timeout | undefined;
      const upload = progress && {
        onUploadProgress: (sent: number, total: number) => {
          progress.update(`uploading ${file}: ${formatBytes(sent)} of ${formatBytes(total)} (${Math.floor((sent * 100) / total)}%)`);
          if (sent === total && ticker === undefined) {
            ticker = setInterval(() => progress.update(`uploaded ${formatBytes(total)}; the node validates, compiles and meters it… ${Math.round((Date.now() - started) / 1000)} s`), 500);
            ticker.unref();
          }
        },
      };
      try {
        try {
          agentInfo = (await client.request<AgentInfo>('POST', '/api/v1/agents', { body, ...upload, expect: AGENT })).body;
        } catch (error) {
          if (!isAlreadyDeployed(error)) throw error;
          action = 'upgraded';
          clearInterval(ticker);
          ticker = undefined;
          agentInfo = (await client.request<AgentInfo>('PUT', agentPath(options.name), { body, ...upload, expect: AGENT })).body;
        }
      } finally {
        clearInterval(ticker);
        progress?.done();
      }
      print.result(
        { action, agent: agentInfo },
        () => `${action} agent '${agentInfo.name}' (version ${agentInfo.version}) on node ${agentInfo.node}\n${describeAgent(agentInfo)}`,
      );
    });
  withExamples(
    deploy,
    'caxton agent deploy echo.wasm --name echo --capability echo',
    'caxton agent deploy search.wasm --name search --tool web/fetch --fuel 5000000 --memory-pages 64',
  );
}
