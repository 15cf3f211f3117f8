// `caxton agent stop|start|restart|rollback NAME`: lifecycle control through POST /api/v1/agents/{name}/<action>.
import type { Command } from 'commander';
import type { AgentControlAction, AgentInfo } from '../../node/services.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { AGENT, agentPath, describeAgent } from './agent-view.ts';

const COMMANDS: [AgentControlAction, string, string][] = [
  ['stop', 'stop an agent (queued messages are handled first); it stays stopped across node restarts', 'stopped'],
  ['start', 'start a stopped or failed agent with a fresh instance', 'started'],
  ['restart', 'stop an agent, then start a fresh instance of the same version', 'restarted'],
  ['rollback', 'go back to the previous version of an agent (the last 3 are kept)', 'rolled back'],
];

export function registerAgentControl(agent: Command, context: CliContext): void {
  for (const [action, description, done] of COMMANDS) {
    const command = agent
      .command(action)
      .description(description)
      .argument('<name>', 'agent name')
      .action(async (name: string, _options: unknown, cmd: Command) => {
        const { client, print } = await sessionFor(cmd, context);
        const { body } = await client.request<AgentInfo>('POST', `${agentPath(name)}/${action}`, { expect: AGENT });
        print.result(body, () => `${done} agent '${name}' (version ${body.version}, ${body.state})\n${describeAgent(body)}`);
      });
    withExamples(command, `caxton agent ${action} echo`);
  }
}
