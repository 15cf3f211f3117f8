// The composition root: opens the node's state, wires runtime ⇄ router, restores the agents, serves the API.
// Every layer below knows only the small interfaces it was given; this file is where they meet.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AgentHost } from '../agents/agent-host.ts';
import { parseClientCertificateRule } from '../api/api-tls.ts';
import { authLimitsOf } from '../api/auth-limits.ts';
import { buildApi } from '../api/server.ts';
import type { ApiKeyServices, ApiKeyView, CreatedApiKeyView } from '../api/api-key-services.ts';
import type { ClusterMemberView, ClusterServices, ClusterStatusView, GossipKeyOp, GossipKeyReport, PerformanceFigure } from '../api/cluster-services.ts';
import { ClusterService } from '../cluster/cluster-service.ts';
import type { Config } from '../config/config.ts';
import { parseHostPort } from '../config/host-port.ts';
import { CaxtonError, invalidArgument } from '../errors.ts';
import { ClientInbox } from '../messaging/client-inbox.ts';
import type { AclMessage, MessageInput } from '../messaging/message.ts';
import { CLIENT_PREFIX, parseMessage } from '../messaging/message.ts';
import { routeAndWait } from '../messaging/route-and-wait.ts';
import { Router } from '../messaging/router.ts';
import { ConversationTracker } from '../messaging/conversations/conversation-tracker.ts';
import { registerSystemAgents } from '../messaging/system-agents/register-system-agents.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createMetrics, type CaxtonMetrics } from '../observability/metrics.ts';
import { ADMIN_KEY_NAME } from '../state/api-key-store.ts';
import { openNodeState, type NodeState } from '../state/node-state.ts';
import { registerAgentMetrics } from './agent-metrics.ts';
import type { AgentOperations } from './agent-operations.ts';
import { AgentService } from './agent-service.ts';
import { defaultNodeId } from './default-node-id.ts';
import type { PeerRouting } from './peer-routing.ts';
import { bindRouting } from './routing-binding.ts';
import { agentThreadFigures, createAgentHost, registerAgentThreadMetrics } from './agent-threads.ts';
import { agentCounts, findClusterAgent, listClusterAgents, clusterFigures, type ClusterAgentSources } from './cluster-agents.ts';
import { EventBus } from './event-bus.ts';
import { jwtAuthenticatorFor, looksLikeJwt, type TokenAuthenticator } from './jwt-auth.ts';
import { wireObservers } from './observers.ts';
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
  DeadLetter,
  NodeEvent,
  NodeServices,
  Principal,
  Role,
  SendResult,
} from './services.ts';
import type { StreamingSendOptions } from './streaming-send.ts';
import { CAXTON_VERSION } from './version.ts';

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

export class CaxtonNode implements NodeServices, ClusterServices, ApiKeyServices {
  readonly version = CAXTON_VERSION;
  readonly nodeId: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly state: NodeState;
  readonly metrics: CaxtonMetrics;
  readonly runtime: AgentHost;
  readonly router: Router;
  readonly directory: ObservedAgentDirectory;
  readonly inbox = new ClientInbox();
  readonly events = new EventBus();
  readonly conversations: ConversationTracker;
  readonly agents: AgentService;
  api: FastifyInstance | undefined;
  /** The membership layer; absent when started without gossip (in-process benchmarks). */
  cluster: ClusterService | undefined;
  /** The router's hop to other nodes over the routing links; absent without routing TLS material. */
  peerRouting: PeerRouting | undefined;
  /** Deploy, upgrade, delete and control of any agent from this node; absent without routing links. */
  agentOperations: AgentOperations | undefined;
  /** Publishes this node's agents to the cluster registry and copies the others' into the directory. */
  registryBinding: RegistryBinding | undefined;
  /** Verifies JWT bearer tokens; absent until auth.jwt_issuer or auth.oidc_issuer is set. */
  readonly jwt: TokenAuthenticator | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(config: Config, state: NodeState, logger: Logger) {
    this.config = config;
    this.state = state;
    this.nodeId = state.identity.nodeId;
    this.logger = logger;
    this.metrics = createMetrics({ processMetrics: config.metrics.process_metrics });
    this.jwt = jwtAuthenticatorFor(config.auth, (error) =>
      logger.warn({ err: error, jwks: config.auth.jwt_jwks_url, oidc: config.auth.oidc_issuer }, 'fetching the JWKS failed: JWTs cannot be verified'),
    );
    this.directory = new ObservedAgentDirectory(this.nodeId);
    const observers = wireObservers(this);
    // The runtime and the router refer to each other: the runtime's sink is resolved on first use.
    let router: Router | undefined;
    this.runtime = createAgentHost({
      nodeId: this.nodeId,
      config,
      router: () => router!,
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
    router = new Router({
      directory: this.directory,
      localAgents: this.runtime,
      // A reply for a client waiting here, else for one that wrote from another node (sent back there).
      clients: { deliver: (reply, client) => this.inbox.deliver(reply, client) || (this.peerRouting?.forwardClientReply(reply, client) ?? false) },
      deadLetters: state.deadLetters,
      observer: observers.router,
      conversations: this.conversations,
    });
    this.router = router;
    registerSystemAgents(router, {
      directory: this.directory,
      lookupAgent: (name) => {
        const agent = findClusterAgent(this.#agentSources(), name);
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
      },
      logger,
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
    logger ??= createLogger({ level: config.log.level, node: state.identity.nodeId });
    if (state.identity.previousNodeId) {
      logger.warn({ previous: state.identity.previousNodeId, now: state.identity.nodeId }, 'node id changed for this data dir');
    }
    if (state.adminKey.created) {
      logger.info({ path: state.adminKey.path }, 'admin API key written (keep it secret; the CLI reads it from there)');
    }
    const node = new CaxtonNode(config, state, logger);
    try {
      await node.agents.restore();
      if (options.gossip ?? (options.listen === 'inject' ? false : (options.listen ?? true))) {
        node.cluster = await ClusterService.start({
          config,
          nodeId: node.nodeId,
          version: node.version,
          logger: logger.child({ layer: 'cluster' }),
          onMemberEvent: (event) => node.events.publish('member', { ...event }),
        });
        node.registryBinding = new RegistryBinding({
          registry: node.cluster.registry,
          directory: node.directory,
          localAgent: (name) => (node.runtime.has(name) ? node.runtime.info(name) : undefined),
          localAgents: () => node.runtime.list(),
          pinnedOf: (name) => node.state.agents.get(name)?.spec.node,
          events: node.events,
          logger: logger.child({ layer: 'registry' }),
        });
        node.registryBinding.start();
        const bound = bindRouting({
          nodeId: node.nodeId,
          config,
          cluster: node.cluster,
          router: node.router,
          runtime: node.runtime,
          agents: node.agents,
          state: node.state,
          logger,
        });
        node.peerRouting = bound?.peerRouting;
        node.agentOperations = bound?.agentOperations;
      }
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
    const { host, port } = address;
    await this.#buildApi().listen({ host, port });
  }

  #buildApi(): FastifyInstance {
    this.api = buildApi({
      services: this,
      cluster: this,
      apiKeys: this,
      logger: this.logger.child({ layer: 'api' }),
      metricsRegistry: this.metrics.registry,
      httpDuration: this.metrics.httpRequestDuration,
      bodyLimitBytes: this.config.api.body_limit_bytes,
      maxMessageBytes: this.config.messages.max_bytes,
      maxWaitMs: this.config.api.max_wait_ms,
      insecureNoAuth: this.config.auth.insecure_no_auth,
      authLimits: authLimitsOf(this.config.api),
      auditAggregation: {
        windowMs: this.config.api.audit_window_ms,
        denialsPerWindow: this.config.api.audit_denials_per_window,
        maxGroups: this.config.api.audit_groups_max,
      },
      ...(this.config.api.tls_cert !== undefined && this.config.api.tls_key !== undefined
        ? {
            tls: {
              files: { cert: this.config.api.tls_cert, key: this.config.api.tls_key, clientCa: this.config.api.tls_client_ca },
              clientRoles: this.config.api.tls_client_roles.map((entry) => parseClientCertificateRule(entry)!),
            },
          }
        : {}),
    });
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
      this.registryBinding?.close();
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
      await this.runtime.shutdown();
      this.state.close();
      this.logger.info({}, 'node stopped');
    })();
    return this.#stopping;
  }

  // ——— NodeServices ———

  listAgents(filter: { node?: string; capability?: string } = {}): AgentView[] {
    return listClusterAgents(this.#agentSources(), filter);
  }

  getAgent(name: string): AgentView {
    const agent = findClusterAgent(this.#agentSources(), name);
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

  #agentSources(): ClusterAgentSources {
    return {
      nodeId: this.nodeId,
      local: () => this.runtime.list(),
      localAgent: (name) => (this.runtime.has(name) ? this.runtime.info(name) : undefined),
      registry: this.cluster?.registry,
      nodeStates: () => new Map<string, AgentNodeState>((this.cluster?.members() ?? []).map((m) => [m.id, m.state])),
    };
  }

  deployAgent(spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
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
    return this.agentOperations ? this.agentOperations.upgrade(name, spec, module) : this.agents.upgrade(name, spec, module);
  }

  deleteAgent(name: string): Promise<void> {
    return this.agentOperations ? this.agentOperations.delete(name) : this.agents.delete(name);
  }

  controlAgent(name: string, action: AgentControlAction): Promise<AgentInfo> {
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
  async sendMessage(input: MessageInput, options: StreamingSendOptions): Promise<SendResult> {
    const parsed = parseMessage(input);
    if (!parsed.ok) throw invalidArgument(parsed.field, parsed.message);
    const messageId = randomUUID();
    const message: AclMessage = {
      ...parsed.message,
      sender: `${CLIENT_PREFIX}${options.principal}`,
      message_id: messageId,
      conversation_id: parsed.message.conversation_id ?? messageId,
    };
    options.onSent?.({ message_id: message.message_id, conversation_id: message.conversation_id });
    if (options.waitMs === undefined) {
      this.router.route(message);
      return { message_id: message.message_id, conversation_id: message.conversation_id };
    }
    const waitMs = Math.min(Math.max(0, options.waitMs), this.config.api.max_wait_ms);
    const replies = await routeAndWait(this.router, this.inbox, message, waitMs, {
      onReply: options.onReply,
      signal: options.signal,
    });
    return { message_id: message.message_id, conversation_id: message.conversation_id, replies };
  }

  getConversation(id: string): ConversationView {
    const messages = this.state.conversations.list(id);
    const tracked = this.conversations.view(id);
    if (messages.length === 0 && tracked === undefined) {
      throw new CaxtonError('NOT_FOUND', `no conversation "${id}" on this node`, { conversation_id: id });
    }
    const protocol = tracked?.protocol ?? messages.find((m) => m.protocol !== undefined)?.protocol ?? null;
    // Untracked: no protocol the router enforces, or the conversation went idle and was forgotten.
    return { conversation_id: id, protocol, state: tracked?.state ?? 'untracked', messages, ...(tracked ? { participants: tracked.participants } : {}) };
  }

  deadLetters(options: { limit?: number } = {}): DeadLetter[] {
    return this.state.deadLetters.list(options);
  }

  purgeDeadLetters(): number {
    return this.state.deadLetters.purge();
  }

  /** An API key, or a JWT when an issuer is configured; a refused JWT throws UNAUTHENTICATED with the reason. */
  async authenticate(token: string): Promise<Principal | null> {
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

  // ——— ClusterServices ———

  clusterMembers(): ClusterMemberView[] {
    if (!this.cluster) {
      return [{ id: this.nodeId, address: this.config.cluster.bind_addr, state: 'alive', agents: this.runtime.list().length, version: this.version }];
    }
    const counts = agentCounts(this.#agentSources());
    return this.cluster.members().map((m) => ({
      id: m.id,
      address: m.address,
      state: m.state,
      agents: counts.get(m.id) ?? 0,
      version: m.tags.caxton ?? 'unknown',
    }));
  }

  clusterJoinToken(): string {
    if (!this.cluster) throw new CaxtonError('UNAVAILABLE', 'this node runs without gossip');
    return this.cluster.createJoinToken();
  }

  clusterStatus(): ClusterStatusView {
    const agents = [...agentCounts(this.#agentSources()).values()].reduce((sum, n) => sum + n, 0);
    if (!this.cluster) return { health: 'healthy', mode: 'read-write', alive: 1, expected: 1, quorum: 1, agents };
    const { health, mode, alive, expected, quorum } = this.cluster.status();
    return { health, mode, alive, expected, quorum, agents };
  }

  clusterPerformance(): PerformanceFigure[] {
    return [...(this.cluster ? clusterFigures(this.cluster) : []), ...agentThreadFigures(this.runtime)];
  }


  gossipKeys(op: GossipKeyOp, key?: string): Promise<GossipKeyReport> {
    if (!this.cluster) throw new CaxtonError('UNAVAILABLE', 'this node runs without gossip');
    return this.cluster.keyOperation(op, key);
  }
}
