// Deploy, upgrade, delete and restore agents: the one place where the runtime (what runs) and the store
// (what survives a restart) are kept in step. Order matters: a module is validated and the agent started
// in memory before anything is written, so a refused deploy leaves nothing behind; the write comes last and
// is undone in memory if it fails.
import { CaxtonError } from '../errors.ts';
import type { AgentRuntime } from '../agents/agent-runtime.ts';
import { validateAgentModule } from '../agents/module-validator.ts';
import type { LocalAgentDirectory } from '../messaging/agent-directory.ts';
import type { NodeState } from '../state/node-state.ts';
import type { Logger } from '../observability/logger.ts';
import { normalizeAgentSpec } from './agent-spec.ts';
import type { AgentInfo, AgentLimits, AgentSpec, AgentSpecInput } from './services.ts';

export interface AgentServiceOptions {
  nodeId: string;
  state: NodeState;
  runtime: AgentRuntime;
  directory: LocalAgentDirectory;
  defaults: AgentLimits;
  maxModuleBytes: number;
  logger: Logger;
}

export class AgentService {
  readonly #o: AgentServiceOptions;
  /** Names with a deploy, upgrade or delete under way: a second one at the same time is a conflict. */
  readonly #busy = new Set<string>();

  constructor(options: AgentServiceOptions) {
    this.#o = options;
  }

  async deploy(input: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    const spec = this.#prepare(input, module);
    return this.#exclusive(spec.name, async () => {
      if (this.#o.state.agents.get(spec.name) || this.#o.runtime.has(spec.name)) {
        throw new CaxtonError('CONFLICT', `agent "${spec.name}" already exists (upgrade it with PUT /api/v1/agents/${spec.name})`, {
          name: spec.name,
        });
      }
      const sha256 = this.#o.state.modules.put(module);
      try {
        await this.#o.runtime.start(spec, sha256, 1, module);
      } catch (error) {
        this.#o.state.modules.pruneUnused();
        throw error;
      }
      try {
        this.#o.state.agents.upsert({ spec, moduleSha256: sha256, state: 'running', version: 1 });
      } catch (error) {
        await this.#o.runtime.remove(spec.name);
        throw error;
      }
      this.#o.directory.upsert(spec.name, this.#o.nodeId, spec.capabilities);
      this.#o.logger.info({ agent: spec.name, sha256, version: 1 }, 'agent deployed');
      return this.#o.runtime.info(spec.name);
    });
  }

  async upgrade(name: string, input: AgentSpecInput, module: Uint8Array): Promise<AgentInfo> {
    const spec = this.#prepare({ ...input, name }, module);
    return this.#exclusive(name, async () => {
      const stored = this.#o.state.agents.get(name);
      if (!stored) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named "${name}"`, { name });
      const version = stored.version + 1;
      const sha256 = this.#o.state.modules.put(module);
      try {
        await this.#o.runtime.upgrade(spec, sha256, version, module);
      } catch (error) {
        this.#o.state.modules.pruneUnused();
        throw error;
      }
      this.#o.state.agents.upsert({ spec, moduleSha256: sha256, state: 'running', version });
      this.#o.state.modules.pruneUnused();
      this.#o.directory.upsert(name, this.#o.nodeId, spec.capabilities);
      this.#o.logger.info({ agent: name, sha256, version }, 'agent upgraded');
      return this.#o.runtime.info(name);
    });
  }

  async delete(name: string): Promise<void> {
    await this.#exclusive(name, async () => {
      const stored = this.#o.state.agents.get(name);
      if (!stored && !this.#o.runtime.has(name)) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named "${name}"`, { name });
      this.#o.directory.remove(name);
      if (this.#o.runtime.has(name)) await this.#o.runtime.remove(name);
      this.#o.state.agents.delete(name);
      this.#o.state.modules.pruneUnused();
      this.#o.logger.info({ agent: name }, 'agent deleted');
    });
  }

  /** Starts every stored agent again after a restart; a stopped one comes back stopped. */
  async restore(): Promise<void> {
    for (const stored of this.#o.state.agents.list()) {
      const module = this.#o.state.modules.get(stored.module_sha256);
      if (!module) {
        this.#o.logger.error({ agent: stored.name, sha256: stored.module_sha256 }, 'module missing; agent not restored');
        continue;
      }
      try {
        await this.#o.runtime.start(stored.spec, stored.module_sha256, stored.version, module);
        if (stored.state === 'stopped') await this.#o.runtime.stop(stored.name);
        else if (stored.state !== 'running') this.#o.state.agents.setState(stored.name, 'running');
        this.#o.directory.upsert(stored.name, this.#o.nodeId, stored.spec.capabilities);
      } catch (error) {
        this.#o.logger.error({ agent: stored.name, err: error }, 'agent could not be restored');
      }
    }
  }

  /** Remembers a runtime state change that must survive a restart (stopped, failed, running again). */
  persistState(name: string, state: AgentInfo['state']): void {
    if (state === 'running' || state === 'stopped' || state === 'failed') this.#o.state.agents.setState(name, state);
  }

  #prepare(input: AgentSpecInput, module: Uint8Array): AgentSpec {
    const spec = normalizeAgentSpec(input, this.#o.defaults);
    if (spec.node !== undefined && spec.node !== this.#o.nodeId) {
      throw new CaxtonError('INVALID_ARGUMENT', `node: no member named "${spec.node}" (this node is "${this.#o.nodeId}")`, {
        field: 'node',
      });
    }
    if (module.byteLength > this.#o.maxModuleBytes) {
      throw new CaxtonError('TOO_LARGE', `module: ${module.byteLength} bytes is over the limit of ${this.#o.maxModuleBytes}`, {
        field: 'module',
        size: module.byteLength,
        limit: this.#o.maxModuleBytes,
      });
    }
    validateAgentModule(module, spec.limits);
    return spec;
  }

  async #exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(name)) {
      throw new CaxtonError('CONFLICT', `agent "${name}" is being changed by another request; try again`, { name });
    }
    this.#busy.add(name);
    try {
      return await work();
    } finally {
      this.#busy.delete(name);
    }
  }
}
