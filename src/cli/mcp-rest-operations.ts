// CaxtonOperations over a node's REST API, for `caxton mcp serve --stdio`: the node authenticates the key
// and checks the role (a 403 comes back as ApiError, which the tools turn into a tool error). A module path
// is read here, on the machine of the desktop client that named it.
import { readFile } from 'node:fs/promises';
import type { ClusterMemberView, ClusterStatusView } from '../api/cluster-services.ts';
import { CliError } from './cli-error.ts';
import type { ApiClient } from './client.ts';
import type { AgentInfo, AgentLogLine, AgentView, ConversationView, SendResult } from '../node/services.ts';
import type { CaxtonOperations } from '../mcp/caxton-operations.ts';

const agentPath = (name: string): string => `/api/v1/agents/${encodeURIComponent(name)}`;

export function restOperations(client: ApiClient): CaxtonOperations {
  return {
    async listAgents(filter) {
      return (await client.request<{ agents: AgentView[] }>('GET', '/api/v1/agents', { query: filter })).body.agents;
    },
    async getAgent(name) {
      return (await client.request<AgentView>('GET', agentPath(name))).body;
    },
    async deployAgent(spec, module) {
      const body = { ...spec, module: Buffer.from(module).toString('base64') };
      return (await client.request<AgentInfo>('POST', '/api/v1/agents', { body })).body;
    },
    async readModuleFile(path) {
      try {
        return await readFile(path);
      } catch (error) {
        throw new CliError(`INVALID_ARGUMENT: path: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    },
    async sendMessage(message, { waitMs, signal }) {
      return (await client.request<SendResult>('POST', '/api/v1/messages', { body: message, query: { wait_ms: waitMs }, signal })).body;
    },
    async getConversation(id, options) {
      return (await client.request<ConversationView>('GET', `/api/v1/conversations/${encodeURIComponent(id)}`, { query: { after: options?.after } })).body;
    },
    async clusterStatus() {
      return (await client.request<ClusterStatusView>('GET', '/api/v1/cluster/status')).body;
    },
    async clusterMembers() {
      return (await client.request<{ members: ClusterMemberView[] }>('GET', '/api/v1/cluster/members')).body.members;
    },
    async agentLogs(name, { afterSeq, limit }) {
      const query = { after: afterSeq, limit };
      return (await client.request<{ lines: AgentLogLine[] }>('GET', `${agentPath(name)}/logs`, { query })).body.lines;
    },
  };
}
