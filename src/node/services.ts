// What the outside (REST API, CLI through the API, tests) may ask of a node. The API layer depends on this
// interface only; `Node` implements it by wiring the layers, and API tests use a fake.
import type { AuditFilter, AuditRecord } from '../state/audit-log.ts';
export type { AuditCategory, AuditEntry } from '../state/audit-log.ts';
export type { DeadLetter } from '../state/dead-letter-store.ts';
export type { CredentialKind, Principal, Role } from '../state/principal.ts';
import type { AuditEntry } from '../state/audit-log.ts';
import type { DeadLetter } from '../state/dead-letter-store.ts';
import type { Principal } from '../state/principal.ts';
import type { AclMessage, MessageInput } from '../messaging/message.ts';
import type { WaitSignal } from '../messaging/client-inbox.ts';
import type { AgentInfo, AgentLimits, AgentLogLine, AgentSpecInput, AgentState, ToolGrants } from '../agents/agent-types.ts';
export type { AgentInfo, AgentLimits, AgentLogLine, AgentSpec, AgentSpecInput, AgentState, AgentStats, ToolGrants } from '../agents/agent-types.ts';

/** The state of the node an agent runs on, as this node's membership sees it ('unknown': not a member it knows). */
export type AgentNodeState = 'alive' | 'suspect' | 'dead' | 'left' | 'unknown';

/**
 * An agent of another node, as the cluster registry knows it: no statistics or timestamps, which stay on
 * its node. Its records are kept when that node dies or leaves; `node_state` says so.
 */
export interface RemoteAgentInfo {
  name: string;
  node: string;
  node_state: AgentNodeState;
  /** `unplaced`: its node is dead or left and no live node runs it (a pinned agent waiting, or a take-over not done yet). */
  state: AgentState | 'unplaced';
  version: number;
  capabilities: string[];
  module_sha256: string;
  tools: ToolGrants;
  limits: AgentLimits;
  pinned?: string;
}

/** One agent as the API lists it: the full AgentInfo of a local one, the registry's view of a remote one. */
export type AgentView = (AgentInfo & { node_state?: AgentNodeState }) | RemoteAgentInfo;

export type AgentControlAction = 'stop' | 'start' | 'restart' | 'rollback';


export interface SendOptions {
  /** The authenticated principal; the message's sender becomes `client:<principal>`. */
  principal: string;
  /** Wait up to this long for every receiver's answer (see interfaces.md for what counts as one). */
  waitMs?: number;
  /** Ends the wait early with what has arrived (the client went away); an AbortSignal or lighter. */
  signal?: WaitSignal;
  /** The API request's span when tracing is on: the message's trace continues it. */
  traceparent?: string;
  /**
   * The JSON text `input` was parsed from (an API body), when there is one: the message is then delivered,
   * and kept in the history, as that text with the host's fields spliced in where that is exact
   * (wire-text.ts), not serialized again.
   */
  bodyText?: string;
}

export interface SendResult {
  message_id: string;
  conversation_id: string;
  /** Present when waitMs was given: the answers gathered, oldest first. */
  replies?: AclMessage[];
}

export interface ConversationView {
  conversation_id: string;
  protocol: string | null;
  state: string;
  messages: AclMessage[];
  /** For a conversation the router tracks: each participant's state in the protocol. */
  participants?: { name: string; state: string; reply_by?: string }[];
  /** More messages follow (the answer reached api.max_answer_bytes): ask again with `after` = next_after. */
  truncated?: true;
  next_after?: string;
}

/** A page of dead letters, newest first. */
export interface DeadLetterPage {
  dead_letters: DeadLetter[];
  /** Older ones follow (cut by `limit` or api.max_answer_bytes): ask again with `before_id` = next_before_id. */
  truncated?: true;
  next_before_id?: number;
}

export interface NodeEvent {
  type: string;
  ts: string;
  data: Record<string, unknown>;
}

export interface NodeServices {
  readonly nodeId: string;
  readonly version: string;

  /** Agents of the whole cluster (local ones in full, remote ones from the registry). */
  listAgents(filter?: { node?: string; capability?: string }): AgentView[];
  /** A local agent, or a remote one from the registry. Throws CaxtonError NOT_FOUND. */
  getAgent(name: string): AgentView;
  /** Throws CONFLICT when the name exists, INVALID_MODULE / INVALID_ARGUMENT naming what is wrong. */
  deployAgent(spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo>;
  /** Replaces the module and spec of an existing agent; NOT_FOUND when there is none. */
  upgradeAgent(name: string, spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo>;
  deleteAgent(name: string): Promise<void>;
  /**
   * stop | start | restart | rollback (back one version) of an existing agent; NOT_FOUND when there is none,
   * CONFLICT when there is no earlier version. Optional: a node without lifecycle control answers 501.
   */
  controlAgent?(name: string, action: AgentControlAction): Promise<AgentInfo>;
  agentLogs(name: string, options?: { afterSeq?: number; limit?: number }): AgentLogLine[] | Promise<AgentLogLine[]>;
  /** Calls `listener` for each new log line of the agent; returns the unsubscribe function. */
  followAgentLogs(name: string, listener: (line: AgentLogLine) => void): () => void;

  /** Validates, stamps and routes a client's message. Throws INVALID_ARGUMENT naming the field. */
  sendMessage(input: MessageInput, options: SendOptions): Promise<SendResult>;
  /** A page of at most api.max_answer_bytes of messages, after the cursor `after` when given. Throws NOT_FOUND. */
  getConversation(id: string, options?: { after?: string }): Promise<ConversationView>;

  /** A page of at most `limit` and api.max_answer_bytes, older than `beforeId` when given. */
  deadLetters(options?: { limit?: number; beforeId?: number }): DeadLetterPage;
  purgeDeadLetters(): number;

  /**
   * Resolves a bearer token to a principal: an unknown API key gives null; a refused JWT throws UNAUTHENTICATED
   * (the reason), an unreachable JWKS UNAVAILABLE. Synchronous where no I/O is needed (an API key is checked in
   * memory), so that refusing a wrong key costs no promise.
   */
  authenticate(token: string): Principal | null | Promise<Principal | null>;
  /**
   * The principal of a credential already verified and held in memory, without any I/O; undefined otherwise.
   * Lets a known client through from an address that someone else's failed logins have blocked.
   */
  authenticateKnown?(token: string): Principal | undefined;
  audit(entry: AuditEntry): void;
  /** Audit entries matching `filter` (GET /api/v1/audit); absent on a node without an audit store. */
  queryAudit?(filter: AuditFilter, limit: number): AuditRecord[];

  /** Live events (agent state changes, sampled messages, membership); returns the unsubscribe function. */
  onEvent(listener: (event: NodeEvent) => void): () => void;
}
