// An in-memory NodeServices for API and CLI tests: it records what it was asked and behaves like the
// contract says (NOT_FOUND, CONFLICT, replies for wait_ms), nothing more.
import { createHash } from 'node:crypto';
import type { ClusterServices } from '../../src/api/cluster-services.ts';
import { CaxtonError } from '../../src/errors.ts';
import type { AclMessage, MessageInput } from '../../src/messaging/message.ts';
import type {
  AgentInfo,
  AgentLogLine,
  AgentSpecInput,
  AuditEntry,
  ConversationView,
  DeadLetter,
  DeadLetterPage,
  NodeEvent,
  NodeServices,
  Principal,
  SendOptions,
  SendResult,
} from '../../src/node/services.ts';

export const TOKENS: Record<string, Principal> = {
  'admin-key': { id: 'root', role: 'admin' },
  'operator-key': { id: 'ops', role: 'operator' },
  'deployer-key': { id: 'ci', role: 'deployer' },
  'sender-key': { id: 'app', role: 'sender' },
  'viewer-key': { id: 'dash', role: 'viewer' },
};

export class FakeNodeServices implements NodeServices {
  readonly nodeId = 'node-a';
  readonly version = '0.1.0-test';
  readonly agents = new Map<string, AgentInfo>();
  readonly audits: AuditEntry[] = [];
  readonly sent: Array<{ input: MessageInput; options: SendOptions }> = [];
  readonly logs: AgentLogLine[] = [];
  deadLetterStore: DeadLetter[] = [];
  private readonly logListeners = new Set<(line: AgentLogLine) => void>();
  private readonly eventListeners = new Set<(event: NodeEvent) => void>();
  private nextMessage = 1;

  get eventListenerCount(): number {
    return this.eventListeners.size;
  }

  get logListenerCount(): number {
    return this.logListeners.size;
  }

  listAgents(filter?: { node?: string; capability?: string }): AgentInfo[] {
    return [...this.agents.values()].filter(
      (a) =>
        (!filter?.node || a.node === filter.node) &&
        (!filter?.capability || a.capabilities.includes(filter.capability)),
    );
  }

  getAgent(name: string): AgentInfo {
    const agent = this.agents.get(name);
    if (!agent) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named '${name}'`, { name });
    return agent;
  }

  async deployAgent(spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    if (this.agents.has(spec.name)) throw new CaxtonError('CONFLICT', `agent '${spec.name}' already exists`);
    const now = new Date(0).toISOString();
    const agent: AgentInfo = {
      name: spec.name,
      node: spec.node ?? this.nodeId,
      state: 'running',
      version: 1,
      capabilities: spec.capabilities ?? [],
      module_sha256: createHash('sha256').update(module).digest('hex'),
      tools: spec.tools ?? {},
      limits: { memory_pages: 16, fuel: 1_000_000, mailbox: 1024, ...spec.limits },
      created_at: now,
      updated_at: now,
      stats: { invocations: 0, traps: 0, traps_by_reason: {}, fuel_used: 0, memory_pages: 0, messages_in: 0, messages_out: 0, mailbox_depth: 0, last_error: null },
    };
    this.agents.set(agent.name, agent);
    return agent;
  }

  async upgradeAgent(name: string, spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    const old = this.getAgent(name);
    const agent: AgentInfo = {
      ...old,
      version: old.version + 1,
      capabilities: spec.capabilities ?? old.capabilities,
      module_sha256: createHash('sha256').update(module).digest('hex'),
    };
    this.agents.set(name, agent);
    return agent;
  }

  async deleteAgent(name: string): Promise<void> {
    this.getAgent(name);
    this.agents.delete(name);
  }

  agentLogs(name: string, options?: { afterSeq?: number; limit?: number }): AgentLogLine[] {
    return this.logs
      .filter((l) => l.agent === name && l.seq > (options?.afterSeq ?? -1))
      .slice(0, options?.limit ?? Infinity);
  }

  followAgentLogs(_name: string, listener: (line: AgentLogLine) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /** Appends a log line and hands it to followers. */
  log(agent: string, message: string): AgentLogLine {
    const line: AgentLogLine = { seq: this.logs.length + 1, ts: new Date(0).toISOString(), level: 'info', agent, message };
    this.logs.push(line);
    for (const listener of this.logListeners) listener(line);
    return line;
  }

  async sendMessage(input: MessageInput, options: SendOptions): Promise<SendResult> {
    this.sent.push({ input, options });
    const message_id = `m-${this.nextMessage++}`;
    const conversation_id = input.conversation_id ?? `c-${message_id}`;
    if (options.waitMs === undefined) return { message_id, conversation_id };
    const receivers = Array.isArray(input.receiver) ? input.receiver : [input.receiver];
    const replies: AclMessage[] = receivers.map((r, i) => ({
      performative: 'inform',
      sender: r,
      receiver: `client:${options.principal}`,
      content: { echo: input.content ?? null },
      conversation_id,
      in_reply_to: message_id,
      message_id: `${message_id}-r${i}`,
    }));
    return { message_id, conversation_id, replies };
  }

  async getConversation(id: string): Promise<ConversationView> {
    if (id !== 'c-known') throw new CaxtonError('NOT_FOUND', `no conversation '${id}'`);
    return {
      conversation_id: id,
      protocol: 'fipa-request',
      state: 'done',
      messages: [
        { performative: 'request', sender: 'client:root', receiver: 'echo', message_id: 'm1', conversation_id: id },
        { performative: 'inform', sender: 'echo', receiver: 'client:root', message_id: 'm2', conversation_id: id },
      ],
    };
  }

  deadLetters(options?: { limit?: number }): DeadLetterPage {
    return { dead_letters: this.deadLetterStore.slice(0, options?.limit ?? Infinity) };
  }

  purgeDeadLetters(): number {
    const n = this.deadLetterStore.length;
    this.deadLetterStore = [];
    return n;
  }

  async authenticate(token: string): Promise<Principal | null> {
    return TOKENS[token] ?? null;
  }

  audit(entry: AuditEntry): void {
    this.audits.push(entry);
  }

  onEvent(listener: (event: NodeEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  emit(event: NodeEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }
}

export class FakeCluster implements ClusterServices {
  clusterMembers() {
    return [
      { id: 'node-a', address: '127.0.0.1:7946', state: 'alive' as const, agents: 2, version: '0.1.0' },
      { id: 'node-b', address: '127.0.0.1:7947', state: 'suspect' as const, agents: 0, version: '0.1.0' },
    ];
  }

  clusterStatus() {
    return { health: 'degraded' as const, mode: 'read-write' as const, alive: 1, expected: 2, quorum: 2 };
  }

  clusterPerformance() {
    return [{ name: 'routing_latency_p99', value: 0.8, unit: 'ms', target: '< 1 ms' }];
  }
}
