// `caxton agents list` and `caxton agent inspect|delete|logs` (deploy is in agent-deploy.ts).
import type { Command } from 'commander';
import type { ClusterMemberView } from '../../api/cluster-services.ts';
import type { AgentInfo, AgentLogLine } from '../../node/services.ts';
import { withExamples, sessionFor, type CliContext } from '../context.ts';
import { printable, renderTable } from '../output.ts';
import { eventObject } from '../sse-reader.ts';
import { registerAgentControl } from './agent-control.ts';
import { registerAgentDeploy } from './agent-deploy.ts';
import { AGENT, AGENT_COLUMNS, agentPath, describeAgent } from './agent-view.ts';
import { MEMBERS } from './cluster.ts';

/** Agents by node; every member is a group, even with no agents (`nodes` from the member list). */
function groupByNode(agents: AgentInfo[], nodes: readonly string[] = []): Map<string, AgentInfo[]> {
  const groups = new Map<string, AgentInfo[]>();
  for (const node of nodes) groups.set(node, []);
  for (const agent of agents) groups.set(agent.node, [...(groups.get(agent.node) ?? []), agent]);
  const sorted = [...groups].sort(([a], [b]) => a.localeCompare(b));
  for (const [, group] of sorted) group.sort((a, b) => a.name.localeCompare(b.name));
  return new Map(sorted);
}

function groupHeader(node: string, count: number, state: string | undefined): string {
  const agents = `${count} agent${count === 1 ? '' : 's'}`;
  return printable(state && state !== 'alive' ? `${node} (${agents}, node ${state})` : `${node} (${agents})`);
}

function logLine(line: AgentLogLine): string {
  return `${printable(String(line.ts))}  ${printable(String(line.level).toUpperCase()).padEnd(5)}  ${printable(String(line.message))}\n`;
}

export function registerAgentCommands(program: Command, context: CliContext): void {
  const agents = program.command('agents').description('agents across the cluster');
  withExamples(agents, 'caxton agents list --by-node');
  const list = agents
    .command('list')
    .description('list agents (name, node, state, version, capabilities)')
    .option('--by-node', 'group the agents by the node they run on')
    .option('--node <id>', 'only the agents on this node')
    .option('--capability <cap>', 'only the agents advertising this capability')
    .action(async (options: { byNode?: boolean; node?: string; capability?: string }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<{ agents: AgentInfo[] }>('GET', '/api/v1/agents', {
        query: { node: options.node, capability: options.capability },
        expect: { agents: 'list' },
      });
      if (!options.byNode) {
        print.result(body, () => (body.agents.length ? renderTable(AGENT_COLUMNS, body.agents) : 'no agents\n'));
        return;
      }
      // All nodes, those without agents too, unless a filter narrows the list; members are best effort
      // (a node without its cluster layer answers 503).
      let states = new Map<string, string>();
      if (options.node === undefined && options.capability === undefined) {
        try {
          const { body: cluster } = await client.request<{ members: ClusterMemberView[] }>('GET', '/api/v1/cluster/members', { expect: MEMBERS });
          states = new Map(cluster.members.map((m) => [m.id, m.state]));
        } catch {
          /* agents alone */
        }
      }
      const groups = groupByNode(body.agents, [...states.keys()]);
      print.result({ nodes: Object.fromEntries(groups) }, () => {
        if (groups.size === 0) return 'no agents\n';
        return [...groups]
          .map(([node, group]) => `${groupHeader(node, group.length, states.get(node))}\n${group.length ? renderTable(AGENT_COLUMNS, group) : ''}`)
          .join('\n');
      });
    });
  withExamples(list, 'caxton agents list', 'caxton agents list --by-node', 'caxton agents list --output json');

  const agent = program.command('agent').description('deploy, inspect, delete one agent, or read its log');
  withExamples(agent, 'caxton agent inspect echo');
  registerAgentDeploy(agent, context);
  registerAgentControl(agent, context);

  const inspect = agent
    .command('inspect')
    .description('show one agent: state, version, limits, tools, statistics')
    .argument('<name>', 'agent name')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<AgentInfo>('GET', agentPath(name), { expect: AGENT });
      print.result(body, () => describeAgent(body));
    });
  withExamples(inspect, 'caxton agent inspect echo');

  const remove = agent
    .command('delete')
    .description('stop an agent and remove it from the cluster')
    .argument('<name>', 'agent name')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      await client.request('DELETE', agentPath(name));
      print.result({ deleted: name }, () => `deleted agent '${name}'\n`);
    });
  withExamples(remove, 'caxton agent delete echo');

  const logs = agent
    .command('logs')
    .description("print an agent's log; --follow keeps printing new lines until interrupted")
    .argument('<name>', 'agent name')
    .option('--follow', 'keep the stream open and print new lines as they come')
    .action(async (name: string, options: { follow?: boolean }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      if (!options.follow) {
        const { body } = await client.request<{ lines: AgentLogLine[] }>('GET', `${agentPath(name)}/logs`, {
          query: { limit: 1000 },
          expect: { lines: 'list' },
        });
        print.result(body, () => body.lines.map(logLine).join(''));
        return;
      }
      for await (const event of client.events(`${agentPath(name)}/logs`, {
        query: { follow: true },
        signal: context.interrupt,
      })) {
        if (event.event !== 'log') continue;
        const line = eventObject(event) as unknown as AgentLogLine;
        print.item(line, () => logLine(line));
      }
    });
  withExamples(logs, 'caxton agent logs echo', 'caxton agent logs echo --follow');
}
