// The input and output schemas of Caxton's MCP tools (zod, shown to clients as JSON Schema by the SDK).
// Inputs are shaped for a language model (plain fields, defaults said in the description); the node
// validates them once more as it validates a REST call, so these never decide alone what is accepted.
import { z } from 'zod';
import { PERFORMATIVES } from '../messaging/message.ts';
import { MCP_DEFAULTS } from './mcp-defaults.ts';

const agentName = z.string().min(1).max(63).describe('agent name: lower case letters, digits, . _ - (e.g. "echo")');

// --- inputs -------------------------------------------------------------------------------------------

export const listAgentsInput = {
  node: z.string().min(1).max(256).optional().describe('only agents on this node id'),
  capability: z.string().min(1).max(128).optional().describe('only agents advertising this capability'),
};

export const getAgentInput = { name: agentName };

export const deployAgentInput = {
  name: agentName,
  path: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe(
      'a .wasm file on the machine running `caxton mcp serve --stdio` (refused over /mcp: the node reads no file a remote client names); give path or module_base64',
    ),
  module_base64: z.string().min(1).optional().describe('the WebAssembly module, base64-encoded; give path or module_base64'),
  capabilities: z.array(z.string().min(1).max(128)).max(256).optional().describe('capabilities the agent advertises'),
  tools: z
    .record(z.string().min(1).max(128), z.union([z.literal('*'), z.array(z.string().min(1).max(128))]))
    .optional()
    .describe('MCP tool grants: server name → "*" or a list of tool names'),
  limits: z
    .strictObject({
      memory_pages: z.int().min(1).max(65536).optional(),
      fuel: z.int().min(1).optional(),
      mailbox: z.int().min(1).optional(),
    })
    .optional()
    .describe('memory ceiling in 64 KiB pages, fuel per invocation, mailbox length'),
  node: z.string().min(1).max(256).optional().describe('pin the agent to this node id'),
};

export const sendMessageInput = {
  receiver: z
    .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(100)])
    .describe('an agent name, capability:<cap>, or a list of them'),
  performative: z.enum(PERFORMATIVES).describe('the FIPA performative, e.g. request'),
  content: z.unknown().optional().describe('the content: any JSON value'),
  protocol: z.string().max(256).optional().describe('interaction protocol, e.g. fipa-request'),
  conversation_id: z.string().min(1).max(256).optional().describe('continue this conversation'),
  reply_with: z.string().max(256).optional(),
  in_reply_to: z.string().max(256).optional(),
  reply_by: z.string().max(64).optional().describe('deadline for replies, RFC 3339'),
  language: z.string().max(256).optional(),
  ontology: z.string().max(256).optional(),
  wait_ms: z
    .int()
    .min(0)
    .max(MCP_DEFAULTS.maxWaitMs)
    .optional()
    .describe(
      `wait up to this long for every receiver to answer and return the replies (default ${MCP_DEFAULTS.sendWaitMs}; 0: send and return at once)`,
    ),
};

export const getConversationInput = {
  conversation_id: z.string().min(1).max(256),
  after: z
    .string()
    .regex(/^\d{1,15}\.\d{1,15}$/)
    .optional()
    .describe('continue after an earlier answer that was truncated: pass its next_after'),
};

export const agentLogsInput = {
  name: agentName,
  after_seq: z.int().min(0).optional().describe('only lines after this sequence number (paging: pass next_after_seq)'),
  limit: z.int().min(1).max(MCP_DEFAULTS.maxLogLines).optional().describe(`lines to return (default ${MCP_DEFAULTS.logLines})`),
};

// --- outputs ------------------------------------------------------------------------------------------

/** A local agent in full, a remote one as the registry knows it: the common fields, the rest passed through. */
const agentView = z.looseObject({
  name: z.string(),
  node: z.string(),
  state: z.string(),
  version: z.number(),
  capabilities: z.array(z.string()),
  module_sha256: z.string(),
});

const aclMessage = z.looseObject({
  performative: z.string(),
  sender: z.string().optional(),
  receiver: z.union([z.string(), z.array(z.string())]),
  content: z.unknown().optional(),
  conversation_id: z.string().optional(),
  message_id: z.string().optional(),
});

export const listAgentsOutput = { agents: z.array(agentView) };
export const agentOutput = { agent: agentView };
export const sendMessageOutput = {
  message_id: z.string(),
  conversation_id: z.string(),
  replies: z.array(aclMessage).describe('the answers gathered, oldest first (empty when wait_ms is 0)'),
};
export const conversationOutput = {
  conversation_id: z.string(),
  protocol: z.string().nullable(),
  state: z.string(),
  messages: z.array(aclMessage),
  participants: z.array(z.looseObject({ name: z.string(), state: z.string() })).optional(),
  /** The answer was cut at api.max_answer_bytes: call again with after = next_after for the rest. */
  truncated: z.boolean().optional(),
  next_after: z.string().optional(),
};
export const clusterStatusOutput = {
  health: z.enum(['healthy', 'degraded']),
  mode: z.enum(['read-write', 'read-only']),
  alive: z.number(),
  expected: z.number(),
  quorum: z.number(),
  agents: z.number().optional(),
};
export const listMembersOutput = {
  members: z.array(
    z.looseObject({ id: z.string(), address: z.string(), state: z.string(), agents: z.number(), version: z.string() }),
  ),
};
export const agentLogsOutput = {
  lines: z.array(z.looseObject({ seq: z.number(), ts: z.string(), level: z.string(), agent: z.string(), message: z.string() })),
  next_after_seq: z.number().nullable().describe('pass as after_seq for the next page; null when there were no lines'),
};
