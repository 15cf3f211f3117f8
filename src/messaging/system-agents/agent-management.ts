// `ams`, the agent management system (messages.md, System agents): query-ref {"agent": "name"} is answered
// with inform {"agent", "state", "node"}; an agent no node runs gets failure AGENT_NOT_FOUND (from `ams`,
// naming the agent). The node provides the lookup: agent state lives with the runtime and the cluster
// registry, not with the router.
import { randomUUID } from 'node:crypto';
import type { MessageSink } from '../delivery.ts';
import { failureReply } from '../replies.ts';
import type { SystemAgentHandler } from '../router-ports.ts';
import { informReply, queryRefArgument } from './system-reply.ts';

export const AMS_NAME = 'ams';

export interface AgentStatus {
  state: string;
  node: string;
}

/** The agent's state and node cluster-wide; undefined when no node runs it. */
export type AgentStatusLookup = (name: string) => AgentStatus | undefined;

export interface AgentManagementOptions {
  lookupAgent: AgentStatusLookup;
  sink: MessageSink;
  newId?: () => string;
}

export function agentManagement(options: AgentManagementOptions): SystemAgentHandler {
  const { lookupAgent, sink } = options;
  const newId = options.newId ?? randomUUID;
  return (message) => {
    const agent = queryRefArgument(message, AMS_NAME, 'agent', (reply) => sink.route(reply));
    if (agent === undefined) return;
    const status = lookupAgent(agent);
    if (status === undefined) {
      sink.route(failureReply(message, AMS_NAME, 'AGENT_NOT_FOUND', `agent "${agent}" not found`, { agent }));
      return;
    }
    sink.route(informReply(message, AMS_NAME, { agent, state: status.state, node: status.node }, newId()));
  };
}
