// What the MCP tools ask of a Caxton node: one small interface with two implementations, in-process over
// NodeServices for `/mcp` (src/api/mcp-operations.ts) and over the REST API for `caxton mcp serve --stdio`
// (src/cli/mcp-rest-operations.ts). The tools (caxton-tools.ts) are written once against it.
import type { ClusterMemberView, ClusterStatusView } from '../api/cluster-services.ts';
import type { Permission } from '../api/permissions.ts';
import type { MessageInput } from '../messaging/message.ts';
import type { AgentInfo, AgentLogLine, AgentSpecInput, AgentView, ConversationView, SendResult } from '../node/services.ts';

export interface CaxtonOperations {
  listAgents(filter: { node?: string; capability?: string }): Promise<AgentView[]>;
  getAgent(name: string): Promise<AgentView>;
  deployAgent(spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo>;
  /**
   * The bytes of a module named by path. Only where the path is the caller's own machine (stdio): the node
   * never reads files a remote client names.
   */
  readModuleFile(path: string): Promise<Uint8Array>;
  /** Sends as the caller; with waitMs, resolves with the replies gathered (the node caps the wait). */
  sendMessage(message: MessageInput, options: { waitMs?: number; signal?: AbortSignal }): Promise<SendResult>;
  /** One answer's worth (api.max_answer_bytes); `after` is the next_after of an earlier, truncated one. */
  getConversation(id: string, options?: { after?: string }): Promise<ConversationView>;
  clusterStatus(): Promise<ClusterStatusView>;
  clusterMembers(): Promise<ClusterMemberView[]>;
  agentLogs(name: string, options: { afterSeq?: number; limit: number }): Promise<AgentLogLine[]>;
}

/** The permission each tool needs: the same as its REST route's (src/api/permissions.ts). */
export const TOOL_PERMISSIONS = {
  list_agents: 'agents:read',
  get_agent: 'agents:read',
  deploy_agent: 'agents:write',
  send_message: 'messages:send',
  get_conversation: 'messages:read',
  cluster_status: 'cluster:read',
  list_members: 'cluster:read',
  agent_logs: 'agents:read',
} as const satisfies Record<string, Permission>;

export type ToolName = keyof typeof TOOL_PERMISSIONS;
