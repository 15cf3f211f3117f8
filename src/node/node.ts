// The composition root: opens the node's state, wires runtime ⇄ router, restores the agents, serves the API.
// Every layer below knows only the small interfaces it was given; this file is where they meet.
import type { FastifyInstance } from 'fastify';
import type { AgentHost } from '../agents/agent-host.ts';
import type { ApiKeyServices, ApiKeyView, CreatedApiKeyView } from '../api/api-key-services.ts';
import { listenHostOf } from '../api/listen-host.ts';
import type { DrainReportView } from '../api/cluster-services.ts';
import type { ClusterService } from '../cluster/cluster-service.ts';
import type { Config } from '../config/config.ts';
import { parseHostPort } from '../config/host-port.ts';
import { CaxtonError, invalidArgument } from '../errors.ts';
import { ClientInbox } from '../messaging/client-inbox.ts';
import type { MessageInput } from '../messaging/message.ts';
import { Router } from '../messaging/router.ts';
import { ConversationTracker } from '../messaging/conversations/conversation-tracker.ts';
import { RemoteAwaits } from '../messaging/remote-awaits.ts';
import { registerSystemAgents } from '../messaging/system-agents/register-system-agents.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createMetrics, type CaxtonMetrics } from '../observability/metrics.ts';
import type { NodeTracing } from '../observability/tracing.ts';
import { PerformanceRecorder } from '../observability/performance-recorder.ts';
import { ADMIN_KEY_NAME } from '../state/api-key-store.ts';
import type { AuditFilter, AuditRecord } from '../state/audit-log.ts';
import type { ConversationLog } from '../state/conversation-log.ts';
import { openNodeState, type NodeState } from '../state/node-state.ts';
import { toolGatewayFor, type McpToolGateway } from '../tools/mcp-tool-gateway.ts';
import { openStateBackend } from '../tools/state/open-state-backend.ts';
import { createStateToolServer } from '../tools/state/state-tool.ts';
import { SharedStateBackend } from '../tools/state/shared-state-backend.ts';
import { registerAgentMetrics } from './agent-metrics.ts';
import { BackupService } from './backup-service.ts';
import type { AgentOperations } from './agent-operations.ts';
import { AgentService } from './agent-service.ts';
import { defaultNodeId } from './default-node-id.ts';
import type { PeerRouting } from './peer-routing.ts';
import { createAgentHost, registerAgentThreadMetrics } from './agent-threads.ts';
import type { NodeDrain } from './drain.ts';
import { HandoverLedger } from './handover-ledger.ts';
import { EventBus } from './event-bus.ts';
import { jwtAuthenticatorFor, looksLikeJwt, type TokenAuthenticator } from './jwt-auth.ts';
import { wireObservers } from './observers.ts';
import { wireCluster } from './cluster-wiring.ts';
import { buildNodeApi } from './api-binding.ts';
import { requireQuorum } from './quorum-guard.ts';
import type { Failover } from './failover.ts';
import { findClusterAgent, listClusterAgents, type ClusterAgentSources } from './cluster-agents.ts';
import { NodeClusterServices } from './node-cluster-services.ts';
import { tracedSink, tracingFor } from './tracing-binding.ts';
import { remoteNodeOf } from './waits-on-death.ts';
import { ObservedAgentDirectory, RegistryBinding } from './registry-binding.ts';
import type {
  AgentControlAction,
  AgentInfo,
  AgentLogLine,
  AgentNodeState,
  AgentSpecInput,
  AgentView,
  AuditEntry,
  ConversationView,
  DeadLetterPage,
  NodeEvent,
  NodeServices,
  Principal,
  Role,
  SendResult,
} from './services.ts';
import type { StreamingSendOptions } from './streaming-send.ts';
import { CAXTON_VERSION } from './version.ts';
import { openNodeHistory } from './history-binding.ts';
import { ClientSend } from './client-send.ts';
import { conversationPage, deadLetterPage } from './history-reads.ts';

export interface StartNodeOptions {
  config: Config;
  /** Defaults to a pino logger on stdout at config.log.level. */
  logger?: Logger;
  /**
   * Serve the REST API (default true); in-process benchmarks and tests may leave it off, or ask for 'inject':
   * the API is built and ready (node.api.inject) but bound to no port.
   */
  listen?: boolean | 'inject';
  /** Open the gossip port and join the cluster (default: as `listen`). */
  gossip?: boolean;
}

export class CaxtonNode implements NodeServices, ApiKeyServices {
  readonly version = CAXTON_VERSION;
  readonly nodeId: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly state: NodeState;
  /** The conversation history (its own thread and file); absent when state.conversation_log is off. */
  readonly history: ConversationLog | undefined;
  readonly metrics: CaxtonMetrics;
  /** Live figures for `caxton cluster performance`: routing latency, throughput, agent start, failure detection. */
  readonly performance: PerformanceRecorder;
  /** Spans to OTLP/HTTP; absent unless telemetry.otlp_endpoint is set. */
  readonly tracing: NodeTracing | undefined;
  readonly runtime: AgentHost;
  readonly router: Router;
  readonly directory: ObservedAgentDirectory;
  readonly #clientSend: ClientSend;
  readonly inbox = new ClientInbox();
  readonly events = new EventBus();
  readonly conversations: ConversationTracker;
  /** What local agents await from agents on other nodes: answered NODE_FAILED when such a node dies. */
  readonly remoteAwaits: RemoteAwaits;
  readonly agents: AgentService;
  /** The MCP servers of `mcp.servers`, called by agents through call_tool. */
  readonly tools: McpToolGateway;
  /** Agents' state tool values: one backend shared by the built-in `state` server and /api/v1/state. */
  readonly stateBackend: SharedStateBackend;
  api: FastifyInstance | undefined;
  /** The membership layer; absent when started without gossip (in-process benchmarks). */
  cluster: ClusterService | undefined;
  /** The router's hop to other nodes over the routing links; absent without routing TLS material. */
  peerRouting: PeerRouting | undefined;
  /** Deploy, upgrade, delete and control of any agent from this node; absent without routing links. */
  agentOperations: AgentOperations | undefined;
  /** Publishes this node's agents to the cluster registry and copies the others' into the directory. */
  registryBinding: RegistryBinding | undefined;
  /** Online backups: GET /api/v1/backup and the backup.interval_ms schedule. */
  readonly backups: BackupService;
  /** Starts the agents of dead nodes this node now owns, and settles agents running twice; absent without routing links. */
  failover: Failover | undefined;
  /** Verifies JWT bearer tokens; absent until auth.jwt_issuer or auth.oidc_issuer is set. */
  readonly jwt: TokenAuthenticator | undefined;
  /** Agents adopted from draining nodes, whose forwards peer routing accepts. */
  readonly handovers = new HandoverLedger();
  /** Hands this node's agents to other nodes (drain, leave); absent without routing links. */
  drain: NodeDrain | undefined;
  #stopping: Promise<void> | undefined;
  #stoppedResolve: (() => void) | undefined;
  /** Resolves once stop() has finished (a leave asked through the API ends the process on it). */
  readonly stopped = new Promise<void>((resolve) => (this.#stoppedResolve = resolve));
  /** Members, status, drain and leave, join tokens, performance figures, gossip keys: what the API and MCP serve of the cluster. */
  readonly clusterServices = new NodeClusterServices(this);

  private constructor(config: Config, state: NodeState, history: ConversationLog | undefined, logger: Logger) {
    this.config = config;
    this.state = state;
    this.history = history;
    this.nodeId = state.identity.nodeId;
    this.logger = logger;
    this.metrics = createMetrics({ processMetrics: config.metrics.process_metrics });
    this.jwt = jwtAuthenticatorFor(config.auth, (error) =>
      logger.warn({ err: error, jwks: config.auth.jwt_jwks_url, oidc: config.auth.oidc_issuer }, 'fetching the JWKS failed: JWTs cannot be verified'),
    );
    this.directory = new ObservedAgentDirectory(this.nodeId);
    this.performance = new PerformanceRecorder(() => this.metrics.messagesRouted.total(), this.metrics.routingDuration);
    const observers = wireObservers(this);
    this.stateBackend = new SharedStateBackend(() => openStateBackend(config, state.database.db));
    this.tools = toolGatewayFor(
      config.mcp,
      { state: async () => createStateToolServer(await this.stateBackend.get()) },
      logger.child({ layer: 'tools' }),
    );
    this.tracing = tracingFor(config, this.nodeId, this.version, logger.child({ layer: 'tracing' }));
    // The runtime and the router refer to each other: the runtime's sink is resolved on first use.
    let router: Router | undefined;
    this.runtime = createAgentHost({
      nodeId: this.nodeId,
      config,
      router: () => router!,
      wrapSink: (sink) => tracedSink(this.tracing, this.performance.timedSink(sink)),
      toolGateway: this.tools,
      tracer: this.tracing,
      routerObserver: observers.router,
      historyTracks: observers.historyTracks,
      routedQueued: this.metrics.messagesRouted.child('queued'),
      logger: logger.child({ layer: 'agents' }),
      observer: observers.runtime,
    });
    this.conversations = new ConversationTracker({
      idleMs: config.messages.conversation_idle_ms,
      maxConversations: config.messages.conversations_max,
      endedGraceMs: config.messages.conversation_ended_grace_ms,
      observer: observers.conversations,
    });
    this.remoteAwaits = new RemoteAwaits({ maxEntries: config.messages.remote_awaits_max, ttlMs: config.messages.remote_awaits_ttl_ms });
    router = new Router({
      directory: this.directory,
      localAgents: this.runtime,
      // A reply for a client waiting here, else for one that wrote from another node (sent back there).
      clients: { deliver: (reply, client) => this.inbox.deliver(reply, client) || (this.peerRouting?.forwardClientReply(reply, client) ?? false) },
      deadLetters: state.deadLetters,
      observer: this.tracing ? this.tracing.observeRouter(observers.router) : observers.router,
      conversations: this.conversations,
      remoteAwaits: this.remoteAwaits,
    });
    this.router = router;
    this.#clientSend = new ClientSend({
      router,
      inbox: this.inbox,
      tracing: this.tracing,
      maxWaitMs: config.api.max_wait_ms,
      nodeOf: remoteNodeOf(this.directory),
    });
    registerSystemAgents(router, {
      directory: this.directory,
      lookupAgent: (name) => {
        const agent = findClusterAgent(this.agentSources(), name);
        return agent && { state: agent.state, node: agent.node };
      },
    });
    this.agents = new AgentService({
      nodeId: this.nodeId,
      state,
      runtime: this.runtime,
      directory: this.directory,
      defaults: { memory_pages: config.agents.memory_pages, fuel: config.agents.fuel, mailbox: config.agents.mailbox },
      ceilings: {
        max_fuel: config.agents.max_fuel,
        max_memory_pages: config.agents.max_memory_pages,
        reservedNames: (name) => this.router.isSystemAgent(name),
      },
      maxModuleBytes: config.agents.max_module_bytes,
      structureLimits: {
        max_functions: config.agents.max_functions,
        max_imports: config.agents.max_imports,
        max_exports: config.agents.max_exports,
        max_tables: config.agents.max_tables,
        max_data_segments: config.agents.max_data_segments,
        max_globals: config.agents.max_globals,
        max_table_elements: config.agents.max_table_elements,
      },
      logger,
    });
    this.backups = new BackupService({
      db: state.database.db,
      dataDir: config.node.data_dir,
      intervalMs: config.backup.interval_ms,
      keep: config.backup.keep,
      dir: config.backup.dir,
      logger: logger.child({ layer: 'backup' }),
    });
    registerAgentMetrics(this.metrics.registry, () => this.runtime.list());
    registerAgentThreadMetrics(this.metrics.registry, this.runtime);
    this.metrics.setMailboxDepthSource(() => this.runtime.list().reduce((sum, a) => sum + a.stats.mailbox_depth, 0));
    this.metrics.setAgentCountSource(() => {
      const counts: Partial<Record<AgentInfo['state'], number>> = {};
      for (const agent of this.runtime.list()) counts[agent.state] = (counts[agent.state] ?? 0) + 1;
      return counts;
    });
  }

  static async start(options: StartNodeOptions): Promise<CaxtonNode> {
    const { config } = options;
    let logger = options.logger;
    const state = openNodeState({
      dataDir: config.node.data_dir,
      nodeId: config.node.id,
      defaultNodeId: () => defaultNodeId(config),
      limits: config.state,
      onFlushError: (store, error, dropped) => logger?.error({ store, err: error, dropped }, 'state flush failed'),
    });
    logger ??= createLogger({ level: config.log.level, node: state.identity.nodeId, format: config.log.format });
    if (state.identity.previousNodeId) {
      logger.warn({ previous: state.identity.previousNodeId, now: state.identity.nodeId }, 'node id changed for this data dir');
    }
    if (state.adminKey.created) {
      logger.info({ path: state.adminKey.path }, 'admin API key written (keep it secret; the CLI reads it from there)');
    }
    let history: ConversationLog | undefined;
    try {
      history = openNodeHistory(config, state, logger);
    } catch (error) {
      state.close();
      throw error;
    }
    let node: CaxtonNode;
    try {
      node = new CaxtonNode(config, state, history, logger);
    } catch (error) {
      await history?.close();
      state.close();
      throw error;
    }
    try {
      await node.agents.restore();
      if (options.gossip ?? (options.listen === 'inject' ? false : (options.listen ?? true))) {
        await wireCluster(node, logger);
        node.clusterServices.answerPerformanceRequests();
      }
      node.backups.start();
      if (options.listen === 'inject') await node.#buildApi().ready();
      else if (options.listen ?? true) await node.#listen();
    } catch (error) {
      await node.stop();
      throw error;
    }
    logger.info({ version: node.version, api: config.api.addr, agents: node.runtime.list().length }, 'node started');
    return node;
  }

  async #listen(): Promise<void> {
    const address = parseHostPort(this.config.api.addr);
    if (!address) throw invalidArgument('api.addr', `api.addr: expected HOST:PORT, got '${this.config.api.addr}'`);
    const host = await listenHostOf(address.host);
    await this.#buildApi().listen({ host, port: address.port });
  }

  #buildApi(): FastifyInstance {
    this.api = buildNodeApi(this);
    return this.api;
  }

  get isStopping(): boolean {
    return this.#stopping !== undefined;
  }

  /**
   * Graceful stop: leave the cluster (others see this node `left`, not dead), no new requests, current
   * invocations finish, agents shut down, state flushed, ports closed.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.failover?.close();
      this.registryBinding?.close();
      await this.backups.close();
      try {
        await this.cluster?.stop();
      } catch (error) {
        this.logger.warn({ err: error }, 'leaving the cluster failed');
      }
      try {
        await this.api?.close();
      } catch (error) {
        this.logger.warn({ err: error }, 'closing the API failed');
      }
      this.inbox.close();
      this.conversations.close();
      this.performance.close();
      await this.runtime.shutdown();
      await this.tools.close();
      await this.stateBackend.close();
      await this.tracing?.shutdown().catch((error: unknown) => this.logger.warn({ err: error }, 'flushing spans failed'));
      await this.history?.close();
      this.state.close();
      this.logger.info({}, 'node stopped');
      this.#stoppedResolve?.();
    })();
    return this.#stopping;
  }

  /**
   * Graceful leave (SIGTERM, `caxton cluster leave`): hand every agent to its new owner (a drain), then leave
   * the cluster (`left` everywhere) and stop. A node alone keeps its agents stored for its next start.
   */
  async leave(): Promise<DrainReportView | undefined> {
    let report: DrainReportView | undefined;
    // A node alone keeps its agents stored: they come back at its next start.
    if (this.drain && !this.isStopping && this.runtime.list().length > 0 && this.drain.hasOtherNode()) {
      try {
        report = await this.drain.drain();
      } catch (error) {
        this.logger.warn({ err: error }, 'drain before leaving failed; leaving anyway');
      }
    }
    await this.finishRequestsThenStop();
    return report;
  }

  /** Requests already accepted finish first: their replies may still cross the routing links stop() closes. */
  async finishRequestsThenStop(): Promise<void> {
    try {
      await this.api?.close();
    } catch (error) {
      this.logger.warn({ err: error }, 'closing the API failed');
    }
    await this.stop();
  }

  // ——— NodeServices ———

  listAgents(filter: { node?: string; capability?: string } = {}): AgentView[] {
    return listClusterAgents(this.agentSources(), filter);
  }

  getAgent(name: string): AgentView {
    const agent = findClusterAgent(this.agentSources(), name);
    if (!agent) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named "${name}"`, { name });
    return agent;
  }

  /** A local agent; a remote one's logs and controls stay on its node. */
  #localAgent(name: string): AgentInfo {
    const agent = this.getAgent(name);
    if (agent.node !== this.nodeId) {
      throw new CaxtonError('AGENT_NOT_FOUND', `agent "${name}" runs on node "${agent.node}": ask that node`, { name, node: agent.node });
    }
    return agent as AgentInfo;
  }

  /** Where the cluster's agents are known: this node's runtime, and the registry of the others. */
  agentSources(): ClusterAgentSources {
    return {
      nodeId: this.nodeId,
      local: () => this.runtime.list(),
      localAgent: (name) => (this.runtime.has(name) ? this.runtime.info(name) : undefined),
      registry: this.cluster?.registry,
      nodeStates: () => new Map<string, AgentNodeState>((this.cluster?.members() ?? []).map((m) => [m.id, m.state])),
    };
  }

  deployAgent(spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    requireQuorum(this.cluster?.status(), 'deploy');
    if (this.agentOperations) return this.agentOperations.deploy(spec, module);
    // Names are cluster-wide: one already running on another node is not deployed a second time here.
    const elsewhere = this.cluster?.registry.get(spec.name);
    if (elsewhere && elsewhere.node !== this.nodeId) {
      return Promise.reject(
        new CaxtonError('CONFLICT', `agent "${spec.name}" already exists on node "${elsewhere.node}"`, { name: spec.name, node: elsewhere.node }),
      );
    }
    return this.agents.deploy(spec, module);
  }

  upgradeAgent(name: string, spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    requireQuorum(this.cluster?.status(), 'upgrade');
    return this.agentOperations ? this.agentOperations.upgrade(name, spec, module) : this.agents.upgrade(name, spec, module);
  }

  deleteAgent(name: string): Promise<void> {
    requireQuorum(this.cluster?.status(), 'delete');
    return this.agentOperations ? this.agentOperations.delete(name) : this.agents.delete(name);
  }

  controlAgent(name: string, action: AgentControlAction): Promise<AgentInfo> {
    requireQuorum(this.cluster?.status(), action);
    return this.agentOperations ? this.agentOperations.control(name, action) : this.agents[action](name);
  }

  /** A remote agent's logs come from its node; following them live stays local (the stream is this node's). */
  agentLogs(name: string, options: { afterSeq?: number; limit?: number } = {}): AgentLogLine[] | Promise<AgentLogLine[]> {
    if (this.agentOperations && !this.runtime.has(name)) return this.agentOperations.logs(name, options.afterSeq ?? 0, options.limit ?? 100);
    this.#localAgent(name);
    return this.runtime.logs(name, options.afterSeq ?? 0, options.limit ?? 100);
  }

  followAgentLogs(name: string, listener: (line: AgentLogLine) => void): () => void {
    this.#localAgent(name);
    return this.runtime.followLogs(name, listener);
  }

  /** With StreamingSendOptions (a wider SendOptions), each reply is also handed over as it arrives. */
  sendMessage(input: MessageInput, options: StreamingSendOptions): Promise<SendResult> {
    return this.#clientSend.send(input, options);
  }

  getConversation(id: string, options: { after?: string } = {}): Promise<ConversationView> {
    return conversationPage(this.history, this.conversations, id, { ...options, maxBytes: this.config.api.max_answer_bytes });
  }

  deadLetters(options: { limit?: number; beforeId?: number } = {}): DeadLetterPage {
    return deadLetterPage(this.state.deadLetters, { ...options, maxBytes: this.config.api.max_answer_bytes });
  }

  purgeDeadLetters(): number {
    return this.state.deadLetters.purge();
  }

  /** An API key, or a JWT when an issuer is configured; a refused JWT throws UNAUTHENTICATED with the reason. */
  authenticate(token: string): Principal | null | Promise<Principal | null> {
    if (!looksLikeJwt(token)) return this.state.apiKeys.verify(token);
    if (!this.jwt) throw new CaxtonError('UNAUTHENTICATED', 'this node accepts no JWTs (auth.jwt_issuer is not set) and no OIDC tokens (auth.oidc_issuer is not set): use an API key');
    return this.jwt.authenticate(token);
  }

  authenticateKnown(token: string): Principal | undefined {
    return looksLikeJwt(token) ? this.jwt?.known(token) : this.state.apiKeys.cached(token);
  }

  audit(entry: AuditEntry): void {
    this.state.audit.append(entry);
  }

  queryAudit(filter: AuditFilter, limit: number): AuditRecord[] {
    return this.state.audit.query(filter, limit);
  }

  onEvent(listener: (event: NodeEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  // ——— ApiKeyServices ———

  createApiKey(role: Role, name: string): CreatedApiKeyView {
    const { key, role: created, created_at } = this.state.apiKeys.create(role, name);
    return { name, role: created, created_at, key };
  }

  listApiKeys(): ApiKeyView[] {
    return this.state.apiKeys.list().map(({ name, role, created_at }) => ({ name, role, created_at }));
  }

  revokeApiKey(name: string): void {
    // ensureAdminKey registers admin.key again at every start: revoking it here would not last.
    if (name === ADMIN_KEY_NAME) {
      throw new CaxtonError(
        'CONFLICT',
        `the key '${ADMIN_KEY_NAME}' is this node's admin.key and is registered again at every start: to replace it, stop the node, delete admin.key in its data directory and start it (a new key is written)`,
        { name },
      );
    }
    if (!this.state.apiKeys.revoke(name)) throw new CaxtonError('NOT_FOUND', `no API key named '${name}'`, { name });
  }
}
