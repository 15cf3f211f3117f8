// Agents as one cluster sees them: deploy, upgrade, delete, control and inspect work from any node for any
// agent. Placement decides the owner (a pin, else rendezvous hashing over the live Caxton members); an
// operation for an agent owned elsewhere becomes a request over the routing link to that node, which runs
// it with its own AgentService and answers with the result or the error, carried back unchanged. A node
// asked to run a module it lacks fetches it by sha256 from the node that asked and checks the hash.
import { rendezvousOwner } from '../cluster/placement/rendezvous.ts';
import type { AnswerRoom } from '../cluster/routing/peer-link.ts';
import { CaxtonError, type ErrorCode, describeError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { sha256Hex } from '../state/module-store.ts';
import { AgeOrderedMap } from '../messaging/age-ordered-map.ts';
import type { AgentService } from './agent-service.ts';
import type { AgentControlAction, AgentInfo, AgentLogLine, AgentSpec, AgentSpecInput } from './services.ts';

/** Requests between nodes: what the routing links offer (src/cluster/routing). */
export interface PeerRpc {
  request(node: string, method: string, body: unknown, timeoutMs: number): Promise<unknown>;
  /** `room`: the routing links' AnswerRoom for this request (undefined where the transport has none). */
  onRequest(method: string, handler: (fromNode: string, body: unknown, room?: AnswerRoom) => unknown): void;
}

/** The local side the service runs operations with. */
export interface LocalAgentsView {
  has(name: string): boolean;
  info(name: string): AgentInfo;
  logs(name: string, afterSeq: number, limit: number): AgentLogLine[];
}

export interface ModuleStore {
  get(sha256: string): Uint8Array | undefined;
  /**
   * The module's size without reading it (the node's store answers from its index and the row's header): a
   * module.get whose answer the queue to the peer cannot hold is refused before the module is read.
   */
  size(sha256: string): number | undefined;
}

export interface AgentOperationsOptions {
  nodeId: string;
  agents: AgentService;
  local: LocalAgentsView;
  modules: ModuleStore;
  /** The node that runs `name` cluster-wide (the registry), or undefined when nobody does. */
  nodeOf(name: string): string | undefined;
  /** Live Caxton members that route, this node included: the candidates of placement. */
  liveNodes(): readonly string[];
  rpc: PeerRpc | undefined;
  logger: Logger;
  /** Told when a draining node handed `name` to this node (peer routing then accepts its forwards). */
  onAdopted?: (name: string, from: string) => void;
  /** True for a node declared dead or left: its agents (waiting, unplaced) are deleted from the registry here. */
  isGone?(node: string): boolean;
  /** Writes the tombstone of an agent whose node is gone (the registry's withdraw). */
  forget?(name: string): void;
}

/** Defaults of cluster-wide agent operations, each with its reason. */
export const AGENT_OPERATIONS_DEFAULTS = {
  /** A deploy on another node includes fetching a module of up to agents.max_module_bytes and instrumenting it (~2 s per MB). */
  deployTimeoutMs: 60_000,
  /** Inspect, logs, stop, delete: one round trip and local work. */
  requestTimeoutMs: 10_000,
  /** Modules offered to a peer that is deploying them stay fetchable this long, at most this many at once. */
  offeredModuleTtlMs: 120_000,
  maxOfferedModules: 16,
} as const;

type Answer<T> = { ok: T } | { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

interface DeployRequest {
  spec: AgentSpecInput;
  sha256: string;
  origin: string;
}

interface AdoptRequest extends DeployRequest {
  version: number;
  state: 'running' | 'stopped';
}

export class AgentOperations {
  readonly #o: AgentOperationsOptions;
  /** Modules this node asked a peer to run: the peer fetches them from here (bounded by count and age). */
  readonly #offered = new AgeOrderedMap<string, { bytes: Uint8Array; at: number }>();

  constructor(options: AgentOperationsOptions) {
    this.#o = options;
    const rpc = options.rpc;
    if (!rpc) return;
    const serve = <B, T>(method: string, run: (from: string, body: B, room: AnswerRoom | undefined) => Promise<T> | T): void =>
      rpc.onRequest(method, (from, body, room) => answer(() => run(from, body as B, room)));
    serve('agent.deploy', (from, body: DeployRequest) => this.#deployHere(from, body));
    serve('agent.upgrade', (from, body: DeployRequest & { name: string }) => this.#upgradeHere(from, body));
    serve('agent.delete', (_from, body: { name: string }) => this.#o.agents.delete(text(body?.name, 'name')).then(() => true));
    serve('agent.control', (_from, body: { name: string; action: AgentControlAction }) =>
      this.#o.agents[controlAction(body?.action)](text(body?.name, 'name')),
    );
    serve('agent.get', (_from, body: { name: string }) => this.#localInfo(text(body?.name, 'name')));
    serve('agent.logs', (_from, body: { name: string; afterSeq?: number; limit?: number }) => {
      const name = text(body?.name, 'name');
      this.#localInfo(name);
      return this.#o.local.logs(name, Number(body.afterSeq ?? 0), Math.min(1000, Number(body.limit ?? 100)));
    });
    serve('agent.adopt', (from, body: AdoptRequest) => this.#adoptHere(from, body));
    serve('module.get', (_from, body: { sha256: string }, room) => this.#moduleBytes(text(body?.sha256, 'sha256'), room));
  }

  /** Where a new agent goes: its pin (a live member) or the rendezvous owner among the live members. */
  placementOf(spec: AgentSpecInput): string {
    const live = this.#o.liveNodes();
    if (spec.node !== undefined) {
      if (!live.includes(spec.node)) {
        throw new CaxtonError('INVALID_ARGUMENT', `node: no live member named "${spec.node}" (live: ${live.join(', ')})`, {
          field: 'node',
          live,
        });
      }
      return spec.node;
    }
    return rendezvousOwner(spec.name, live) ?? this.#o.nodeId;
  }

  async deploy(spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    const existing = typeof spec.name === 'string' ? this.#o.nodeOf(spec.name) : undefined;
    if (existing !== undefined && existing !== this.#o.nodeId) {
      throw new CaxtonError('CONFLICT', `agent "${spec.name}" already exists on node "${existing}" (upgrade it with PUT /api/v1/agents/${spec.name})`, {
        name: spec.name,
        node: existing,
      });
    }
    // Already here: the local deploy answers the conflict (placement must not start a second copy elsewhere).
    if (existing === this.#o.nodeId || (typeof spec.name === 'string' && this.#o.local.has(spec.name))) return this.#o.agents.deploy(spec, module);
    const owner = this.placementOf(spec);
    if (owner === this.#o.nodeId) return this.#o.agents.deploy(spec, module);
    const sha256 = this.#offer(module);
    return this.#call<AgentInfo>(owner, 'agent.deploy', { spec, sha256, origin: this.#o.nodeId }, AGENT_OPERATIONS_DEFAULTS.deployTimeoutMs);
  }

  async upgrade(name: string, spec: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    const node = this.#ownerOfExisting(name);
    if (spec.node !== undefined && spec.node !== node) {
      throw new CaxtonError('CONFLICT', `node: agent "${name}" runs on "${node}"; an upgrade does not move it (delete it and deploy it pinned to "${spec.node}")`, {
        field: 'node',
        node,
      });
    }
    if (node === this.#o.nodeId) return this.#o.agents.upgrade(name, spec, module);
    const sha256 = this.#offer(module);
    return this.#call<AgentInfo>(node, 'agent.upgrade', { name, spec, sha256, origin: this.#o.nodeId }, AGENT_OPERATIONS_DEFAULTS.deployTimeoutMs);
  }

  async delete(name: string): Promise<void> {
    const node = this.#ownerOfExisting(name);
    if (node === this.#o.nodeId) return this.#o.agents.delete(name);
    // An agent of a dead node (a pinned one waiting, unplaced) cannot be asked of its node: the deletion is
    // written to the registry from here, so it is not taken over and its name is free again.
    if (this.#o.isGone?.(node) && this.#o.forget) {
      this.#o.forget(name);
      this.#o.logger.info({ agent: name, node }, 'agent of a gone node deleted from the registry');
      return;
    }
    await this.#call<boolean>(node, 'agent.delete', { name }, AGENT_OPERATIONS_DEFAULTS.requestTimeoutMs);
  }

  async control(name: string, action: AgentControlAction): Promise<AgentInfo> {
    const node = this.#ownerOfExisting(name);
    if (node === this.#o.nodeId) return this.#o.agents[action](name);
    return this.#call<AgentInfo>(node, 'agent.control', { name, action }, AGENT_OPERATIONS_DEFAULTS.requestTimeoutMs);
  }

  async get(name: string): Promise<AgentInfo> {
    const node = this.#ownerOfExisting(name);
    if (node === this.#o.nodeId) return this.#localInfo(name);
    return this.#call<AgentInfo>(node, 'agent.get', { name }, AGENT_OPERATIONS_DEFAULTS.requestTimeoutMs);
  }

  async logs(name: string, afterSeq: number, limit: number): Promise<AgentLogLine[]> {
    const node = this.#ownerOfExisting(name);
    if (node === this.#o.nodeId) {
      this.#localInfo(name);
      return this.#o.local.logs(name, afterSeq, limit);
    }
    return this.#call<AgentLogLine[]>(node, 'agent.logs', { name, afterSeq, limit }, AGENT_OPERATIONS_DEFAULTS.requestTimeoutMs);
  }

  /**
   * Hands an agent of this (draining) node to `node`: it is deployed there with the same spec, module and
   * version, fetching the module from here when it lacks it. Resolves with the agent as `node` runs it.
   */
  async handOver(node: string, record: { spec: AgentSpecInput; module: Uint8Array; version: number; state: 'running' | 'stopped' }): Promise<AgentInfo> {
    const sha256 = this.#offer(record.module);
    const body: AdoptRequest = { spec: record.spec, sha256, origin: this.#o.nodeId, version: record.version, state: record.state };
    return this.#call<AgentInfo>(node, 'agent.adopt', body, AGENT_OPERATIONS_DEFAULTS.deployTimeoutMs);
  }

  /** This node when it runs the agent (the runtime knows before the registry does), else the registry's answer. */
  #ownerOfExisting(name: string): string {
    if (this.#o.local.has(name)) return this.#o.nodeId;
    const node = this.#o.nodeOf(name);
    if (node === undefined) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named "${name}"`, { name });
    return node;
  }

  #localInfo(name: string): AgentInfo {
    if (!this.#o.local.has(name)) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named "${name}" on node "${this.#o.nodeId}"`, { name });
    return this.#o.local.info(name);
  }

  async #deployHere(origin: string, body: DeployRequest): Promise<AgentInfo> {
    const module = await this.#module(text(body?.sha256, 'sha256'), origin);
    return this.#o.agents.deploy(body.spec, module);
  }

  async #adoptHere(origin: string, body: AdoptRequest): Promise<AgentInfo> {
    const module = await this.#module(text(body?.sha256, 'sha256'), origin);
    const version = Number(body.version);
    if (!Number.isInteger(version) || version < 1) throw new CaxtonError('INVALID_ARGUMENT', 'version: expected a positive integer', { field: 'version' });
    // A name already running here is not adopted a second time: the drain then tries the next node.
    if (this.#o.local.has(text(body.spec?.name, 'spec.name'))) {
      throw new CaxtonError('CONFLICT', `agent "${body.spec.name}" already exists on node "${this.#o.nodeId}"`, { name: body.spec.name });
    }
    // Recorded first: while it starts here, the copy on `origin` still answers, and those answers are accepted.
    this.#o.onAdopted?.(body.spec.name, origin);
    return this.#o.agents.adopt(body.spec as AgentSpec, module, version, body.state === 'stopped');
  }

  async #upgradeHere(origin: string, body: DeployRequest & { name: string }): Promise<AgentInfo> {
    const module = await this.#module(text(body?.sha256, 'sha256'), origin);
    return this.#o.agents.upgrade(text(body.name, 'name'), body.spec, module);
  }

  /** The module's bytes from this node's store, else fetched from `from`, checked against its hash. */
  async #module(sha256: string, from: string): Promise<Uint8Array> {
    const stored = this.#o.modules.get(sha256) ?? this.#offered.get(sha256)?.bytes;
    if (stored) return stored;
    const fetched = await this.#call<Uint8Array>(from, 'module.get', { sha256 }, AGENT_OPERATIONS_DEFAULTS.deployTimeoutMs);
    if (!(fetched instanceof Uint8Array) || sha256Hex(fetched) !== sha256) {
      throw new CaxtonError('INVALID_MODULE', `module: the bytes node "${from}" sent do not match sha256 ${sha256}; refused`, { sha256, node: from });
    }
    return fetched;
  }

  /**
   * A module a peer asked for. Room for the answer in the queue to that peer is taken before the bytes are
   * read and copied, from a size known without reading them (offered, or ModuleStore.size): a
   * request whose answer could not be queued is refused for the cost of a lookup, and the module bytes served
   * to one peer at once (read, encoded, queued, not yet written) stay within routing.queue_max_bytes, or one
   * module when nothing else is queued to it.
   */
  #moduleBytes(sha256: string, room: AnswerRoom | undefined): Uint8Array {
    const offered = this.#offered.get(sha256)?.bytes;
    const size = offered?.byteLength ?? this.#o.modules.size(sha256);
    const notFound = () => new CaxtonError('NOT_FOUND', `no module with sha256 ${sha256} on node "${this.#o.nodeId}"`, { sha256 });
    if (size === undefined) throw notFound();
    this.#reserveAnswer(room, sha256, size);
    // Deleted since its size was read: gone all the same.
    const bytes = offered ?? this.#o.modules.get(sha256);
    if (!bytes) throw notFound();
    return bytes;
  }

  #reserveAnswer(room: AnswerRoom | undefined, sha256: string, bytes: number): void {
    const refusal = room?.reserve(bytes);
    if (refusal === undefined) return;
    throw new CaxtonError('UNAVAILABLE', `module ${sha256} (${bytes} bytes) cannot be sent now: ${refusal}; retry once the queue drains`, { sha256, bytes });
  }

  /** Keeps `module` fetchable by a peer for a while; returns its sha256. */
  #offer(module: Uint8Array): string {
    const now = Date.now();
    // Oldest first, so the expired are the head.
    for (const [sha, entry] of this.#offered) {
      if (now - entry.at <= AGENT_OPERATIONS_DEFAULTS.offeredModuleTtlMs) break;
      this.#offered.delete(sha);
    }
    const sha256 = sha256Hex(module);
    this.#offered.set(sha256, { bytes: module, at: now });
    while (this.#offered.size > AGENT_OPERATIONS_DEFAULTS.maxOfferedModules && this.#offered.shift() !== undefined);
    return sha256;
  }

  async #call<T>(node: string, method: string, body: unknown, timeoutMs: number): Promise<T> {
    const rpc = this.#o.rpc;
    if (!rpc) throw new CaxtonError('UNAVAILABLE', `node "${node}" cannot be reached: this node has no routing links`, { node });
    let reply: unknown;
    try {
      reply = await rpc.request(node, method, body, timeoutMs);
    } catch (error) {
      throw new CaxtonError('UNAVAILABLE', `node "${node}" did not answer ${method}: ${(error as Error).message}`, { node });
    }
    const a = reply as Answer<T> | undefined;
    if (a && typeof a === 'object' && 'ok' in a) return a.ok;
    if (a && typeof a === 'object' && 'error' in a && a.error && typeof a.error.code === 'string') {
      const code = (KNOWN_CODES.has(a.error.code) ? a.error.code : 'INTERNAL') as ErrorCode;
      throw new CaxtonError(code, String(a.error.message), { ...(a.error.details ?? {}), node });
    }
    throw new CaxtonError('INTERNAL', `node "${node}" answered ${method} with something unreadable`, { node });
  }
}

const KNOWN_CODES = new Set<string>([
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'AGENT_NOT_FOUND',
  'CONFLICT',
  'TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'READ_ONLY',
  'INVALID_MODULE',
  'INTERNAL',
]);

/** Runs an operation for a peer; every outcome, thrown or not, becomes an answer (nothing escapes). */
async function answer<T>(run: () => Promise<T> | T): Promise<Answer<T>> {
  try {
    return { ok: await run() };
  } catch (error) {
    if (error instanceof CaxtonError) return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
    return { error: { code: 'INTERNAL', message: describeError(error) } };
  }
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new CaxtonError('INVALID_ARGUMENT', `${field}: expected a string`, { field });
  return value;
}

function controlAction(value: unknown): AgentControlAction {
  if (value === 'stop' || value === 'start' || value === 'restart' || value === 'rollback') return value;
  throw new CaxtonError('INVALID_ARGUMENT', `action: one of stop, start, restart, rollback`, { field: 'action' });
}
