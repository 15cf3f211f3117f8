// Caxton's tools on an MCP server (the SDK's McpServer): written once against CaxtonOperations, served over
// streamable HTTP at /mcp (src/api/routes/mcp.ts) and over stdio by `caxton mcp serve --stdio`. Every failure
// (a refused permission, a missing agent, bad input the node refuses) is a tool error (isError) whose text
// starts with the API's error code, never a protocol error or a crash.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CaxtonError } from '../errors.ts';
import type { MessageInput } from '../messaging/message.ts';
import type { AgentSpecInput } from '../node/services.ts';
import { TOOL_PERMISSIONS, type CaxtonOperations, type ToolName } from './caxton-operations.ts';
import { MCP_DEFAULTS } from './mcp-defaults.ts';
import * as schema from './tool-schemas.ts';

export interface CaxtonMcpServerOptions {
  /** Caxton's version, shown to clients in the initialize answer. */
  version: string;
  /** An error that is not Caxton's own (a bug): the caller logs it; the client gets INTERNAL and no details. */
  onUnexpected?: (error: unknown, tool: ToolName) => void;
}

/** A result with structured content, and the same JSON as text for clients that read only text. */
function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** The error's code and message as one line: what an API call answers, as a tool error. */
function errorText(error: unknown): string | undefined {
  if (error instanceof CaxtonError) return `${error.code}: ${error.message}`;
  // The REST client's errors (ApiError, CliError) already say `CODE: message` or one plain line.
  if (error instanceof Error && (error.name === 'ApiError' || error.name === 'CliError')) return error.message;
  // The client cancelled the call or went away: nobody reads this answer, and it is no fault of ours.
  if (error instanceof Error && error.name === 'AbortError') return 'CANCELLED: the call was cancelled';
  return undefined;
}

/**
 * The operations to run a call with, given the request's auth info: over stdio always the same ones (the
 * REST API authenticates); over /mcp those of the principal the API's auth hook put on the request, so one
 * server can serve one caller after another (building an McpServer costs ~0.6 ms, reconnecting one ~45 µs).
 */
export type OperationsFor = (authInfo: AuthInfo | undefined) => CaxtonOperations;

export function createCaxtonMcpServer(operationsFor: OperationsFor, options: CaxtonMcpServerOptions): McpServer {
  const server = new McpServer(
    { name: 'caxton', version: options.version },
    {
      instructions:
        'Caxton runs WebAssembly agents that talk FIPA-ACL. list_agents to see them, deploy_agent to add one, ' +
        'send_message (it waits for the replies) to talk to them, get_conversation and agent_logs to see what happened.',
    },
  );

  /** Runs a tool body; whatever it throws becomes a tool error, never a protocol error. */
  const run =
    <A>(tool: ToolName, body: (operations: CaxtonOperations, args: A, signal: AbortSignal) => Promise<Record<string, unknown>>) =>
    async (args: A, extra: { signal: AbortSignal; authInfo?: AuthInfo }): Promise<CallToolResult> => {
      try {
        return structured(await body(operationsFor(extra.authInfo), args, extra.signal));
      } catch (error) {
        let text = errorText(error);
        if (text === undefined) {
          options.onUnexpected?.(error, tool);
          text = 'INTERNAL: internal error; see the log of the MCP server';
        }
        return { content: [{ type: 'text', text }], isError: true };
      }
    };
  const needs = (tool: ToolName): string => ` Needs the permission ${TOOL_PERMISSIONS[tool]}.`;

  server.registerTool(
    'list_agents',
    {
      title: 'List agents',
      description: 'Agents of the whole cluster: name, node, state, version, capabilities.' + needs('list_agents'),
      inputSchema: schema.listAgentsInput,
      outputSchema: schema.listAgentsOutput,
      annotations: { readOnlyHint: true },
    },
    run('list_agents', async (operations, args: { node?: string; capability?: string }) => ({ agents: await operations.listAgents(args) })),
  );

  server.registerTool(
    'get_agent',
    {
      title: 'Get an agent',
      description: 'One agent: state, version, capabilities, limits, tool grants, and statistics when it runs on this node.' + needs('get_agent'),
      inputSchema: schema.getAgentInput,
      outputSchema: schema.agentOutput,
      annotations: { readOnlyHint: true },
    },
    run('get_agent', async (operations, { name }: { name: string }) => ({ agent: await operations.getAgent(name) })),
  );

  server.registerTool(
    'deploy_agent',
    {
      title: 'Deploy an agent',
      description: 'Deploy a WebAssembly agent (a new name; an existing one is a CONFLICT).' + needs('deploy_agent'),
      inputSchema: schema.deployAgentInput,
      outputSchema: schema.agentOutput,
      annotations: { destructiveHint: false, idempotentHint: false },
    },
    run('deploy_agent', async (operations, args: { name: string; path?: string; module_base64?: string } & Omit<AgentSpecInput, 'name'>) => {
      const { path, module_base64: base64, ...spec } = args;
      if ((path === undefined) === (base64 === undefined)) {
        throw new CaxtonError('INVALID_ARGUMENT', 'give exactly one of path and module_base64', { field: 'module_base64' });
      }
      const module = path !== undefined ? await operations.readModuleFile(path) : decodeBase64(base64!);
      return { agent: await operations.deployAgent(spec, module) };
    }),
  );

  server.registerTool(
    'send_message',
    {
      title: 'Send a message',
      description:
        'Send a FIPA-ACL message as this client and wait for every receiver to answer; returns the replies. ' +
        'A request to an agent is answered with inform, failure, refuse or not-understood.' +
        needs('send_message'),
      inputSchema: schema.sendMessageInput,
      outputSchema: schema.sendMessageOutput,
      annotations: { destructiveHint: false, openWorldHint: false },
    },
    run('send_message', async (operations, args: Record<string, unknown> & { wait_ms?: number }, signal) => {
      const { wait_ms: requested, ...message } = args;
      const waitMs = requested ?? MCP_DEFAULTS.sendWaitMs;
      const result = await operations.sendMessage(message as MessageInput, waitMs > 0 ? { waitMs, signal } : {});
      return { message_id: result.message_id, conversation_id: result.conversation_id, replies: result.replies ?? [] };
    }),
  );

  server.registerTool(
    'get_conversation',
    {
      title: 'Get a conversation',
      description: 'A conversation as this node saw it: protocol, state, participants and its messages, oldest first; a long one comes in parts (truncated, next_after).' + needs('get_conversation'),
      inputSchema: schema.getConversationInput,
      outputSchema: schema.conversationOutput,
      annotations: { readOnlyHint: true },
    },
    run('get_conversation', async (operations, { conversation_id, after }: { conversation_id: string; after?: string }) => {
      return { ...(await operations.getConversation(conversation_id, after !== undefined ? { after } : {})) };
    }),
  );

  server.registerTool(
    'cluster_status',
    {
      title: 'Cluster status',
      description: 'Health (healthy/degraded), mode (read-write/read-only), alive and expected nodes, quorum, agents.' + needs('cluster_status'),
      inputSchema: {},
      outputSchema: schema.clusterStatusOutput,
      annotations: { readOnlyHint: true },
    },
    run('cluster_status', async (operations) => ({ ...(await operations.clusterStatus()) })),
  );

  server.registerTool(
    'list_members',
    {
      title: 'List cluster members',
      description: 'One entry per node: id, address, state (alive/suspect/dead/left), agents, version.' + needs('list_members'),
      inputSchema: {},
      outputSchema: schema.listMembersOutput,
      annotations: { readOnlyHint: true },
    },
    run('list_members', async (operations) => ({ members: await operations.clusterMembers() })),
  );

  server.registerTool(
    'agent_logs',
    {
      title: 'Agent logs',
      description: "An agent's log lines after a sequence number, oldest first." + needs('agent_logs'),
      inputSchema: schema.agentLogsInput,
      outputSchema: schema.agentLogsOutput,
      annotations: { readOnlyHint: true },
    },
    run('agent_logs', async (operations, { name, after_seq: afterSeq, limit }: { name: string; after_seq?: number; limit?: number }) => {
      const lines = await operations.agentLogs(name, { afterSeq, limit: limit ?? MCP_DEFAULTS.logLines });
      return { lines, next_after_seq: lines.length > 0 ? lines[lines.length - 1].seq : (afterSeq ?? null) };
    }),
  );

  return server;
}

/** Strict base64 (what the REST API accepts): anything else is named rather than decoded to garbage. */
function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new CaxtonError('INVALID_ARGUMENT', 'module_base64: not base64', { field: 'module_base64' });
  }
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length === 0) throw new CaxtonError('INVALID_ARGUMENT', 'module_base64: empty', { field: 'module_base64' });
  return bytes;
}
