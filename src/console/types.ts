// The shapes of the API answers the console reads (docs: interfaces.md, GET /api/v1/openapi.json).

export interface NodeEvent {
  type: string;
  ts: string;
  data: Record<string, unknown>;
}

export interface Member {
  id: string;
  address: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  agents: number;
  version: string;
}

export interface ClusterStatus {
  health: string;
  mode: string;
  alive: number;
  expected: number;
  quorum: number;
  agents?: number;
}

export interface AgentStats {
  invocations: number;
  traps: number;
  fuel_used: number;
  memory_pages: number;
  messages_in: number;
  messages_out: number;
  mailbox_depth: number;
  last_error: string | null;
}

export interface Agent {
  name: string;
  node: string;
  state: string;
  version: number;
  capabilities: string[];
  module_sha256: string;
  limits?: { memory_pages: number; fuel: number; mailbox: number };
  node_state?: string;
  created_at?: string;
  updated_at?: string;
  /** Present for agents of the node the console talks to. */
  stats?: AgentStats;
}

export interface LogLine {
  seq: number;
  ts: string;
  level: string;
  agent: string;
  message: string;
}

export interface AclMessage {
  performative: string;
  sender: string;
  receiver: string | string[];
  content?: unknown;
  conversation_id: string;
  message_id: string;
  protocol?: string;
  in_reply_to?: string;
  reply_by?: string;
}

export interface SendResult {
  message_id: string;
  conversation_id: string;
  replies?: AclMessage[];
}

export interface Conversation {
  conversation_id: string;
  protocol: string | null;
  state: string;
  messages: AclMessage[];
}
