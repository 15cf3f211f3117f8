// How an agent reads on screen and where it lives in the API: shared by list, inspect and deploy.
import type { AgentInfo } from '../../node/services.ts';
import type { AnswerShape } from '../answer-shape.ts';
import { renderFields, type Column } from '../output.ts';

/** What inspect, deploy and control read of an agent (checked: answer-shape.ts). */
export const AGENT: AnswerShape = { name: 'string', node: 'string', state: 'string', limits: 'object?', stats: 'object?', tools: 'object?' };

export const AGENT_COLUMNS: Column<AgentInfo>[] = [
  { header: 'NAME', value: (a) => a.name },
  { header: 'NODE', value: (a) => a.node },
  { header: 'STATE', value: (a) => a.state },
  { header: 'VERSION', value: (a) => String(a.version) },
  { header: 'CAPABILITIES', value: (a) => a.capabilities },
  { header: 'MODULE', value: (a) => a.module_sha256?.slice(0, 12) },
];

export function agentPath(name: string): string {
  return `/api/v1/agents/${encodeURIComponent(name)}`;
}

/** The agent as `key: value` lines. */
export function describeAgent(agent: AgentInfo): string {
  return renderFields([
    ['name', agent.name],
    ['node', agent.node],
    ['state', agent.state],
    ['version', String(agent.version)],
    ['capabilities', agent.capabilities],
    ['tools', agent.tools && Object.keys(agent.tools).length ? agent.tools : undefined],
    ['limits', agent.limits && `memory ${agent.limits.memory_pages} pages, fuel ${agent.limits.fuel}, mailbox ${agent.limits.mailbox}`],
    ['module sha256', agent.module_sha256],
    ['created', agent.created_at],
    ['updated', agent.updated_at],
    ...statsFields(agent.stats),
  ]);
}

/** Accounting as one line per figure, so people can read it (scripts use --output json). */
function statsFields(stats: AgentInfo['stats'] | undefined): [string, unknown][] {
  if (!stats) return [];
  const traps = Object.entries(stats.traps_by_reason ?? {}).map(([reason, n]) => `${reason} ${n}`).join(', ');
  return [
    ['invocations', String(stats.invocations)],
    ['messages in/out', `${stats.messages_in} / ${stats.messages_out}`],
    ['mailbox depth', String(stats.mailbox_depth)],
    ['fuel used', String(stats.fuel_used ?? 0)],
    ['memory pages', String(stats.memory_pages ?? 0)],
    ['traps', traps ? `${stats.traps} (${traps})` : String(stats.traps)],
    ['last error', stats.last_error ?? undefined],
  ];
}

