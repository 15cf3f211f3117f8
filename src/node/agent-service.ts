// Deploy, upgrade, delete and restore agents: the one place where the runtime (what runs) and the store
// (what survives a restart) are kept in step. Order matters: a module is validated and the agent started
// in memory before anything is written, so a refused deploy leaves nothing behind; the write comes last and
// is undone in memory if it fails.
import { CaxtonError } from '../errors.ts';
import type { AgentHost } from '../agents/agent-host.ts';
import type { ModuleStructureLimits } from '../agents/module-validator.ts';
import { validateAgentModule } from '../agents/module-validator.ts';
import type { LocalAgentDirectory } from '../messaging/agent-directory.ts';
import type { NodeState } from '../state/node-state.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentCeilings } from './agent-spec.ts';
import { normalizeAgentSpec } from './agent-spec.ts';
import type { AgentInfo, AgentLimits, AgentSpec, AgentSpecInput } from './services.ts';

/** Agents restored at once after a restart (their starts in flight together). */
const RESTORE_GROUP = 1_000;
/**
 * Distinct module bytes a restore group reads and holds at once (plus the module being started): 1,000 agents
 * of 1,000 different 6 MiB modules would otherwise hold 6 GiB.
 */
const RESTORE_GROUP_BYTES = 64 * 1024 * 1024;

export interface AgentServiceOptions {
  nodeId: string;
  state: NodeState;
  runtime: AgentHost;
  directory: LocalAgentDirectory;
  defaults: AgentLimits;
  /** What a deployer may ask for (agents.max_fuel, agents.max_memory_pages) and the names kept for system agents. */
  ceilings?: AgentCeilings;
  maxModuleBytes: number;
  /** Structure limits checked at deploy (config agents.max_functions ...); none checked when absent. */
  structureLimits?: ModuleStructureLimits;
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
          reason: 'exists',
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

  /**
   * The stored agent as a hand-over sends it: spec, module, version and whether it was stopped; undefined
   * when it is not stored here or its module is gone.
   */
  handoverRecord(name: string): { spec: AgentSpec; module: Uint8Array; sha256: string; version: number; state: 'running' | 'stopped' } | undefined {
    const stored = this.#o.state.agents.get(name);
    if (!stored) return undefined;
    const module = this.#o.state.modules.get(stored.module_sha256);
    if (!module) return undefined;
    return { spec: stored.spec, module, sha256: stored.module_sha256, version: stored.version, state: stored.state === 'stopped' ? 'stopped' : 'running' };
  }

  /** True while a deploy, upgrade or delete of `name` runs (a hand-over waits for it). */
  isBusy(name: string): boolean {
    return this.#busy.has(name);
  }

  /**
   * Forgets a handed-over agent's stored record here (its new owner stores it now). The directory and the
   * registry are the caller's: a delete would publish a tombstone over the new owner's record.
   */
  forgetHandedOver(name: string): void {
    this.#o.state.agents.delete(name);
  }

  /** Drops stored modules no agent uses any more (once after a drain, not per agent). */
  pruneModules(): void {
    this.#o.state.modules.pruneUnused();
  }

  /**
   * Deploys many agents at once (tens of thousands of one module, say): the same checks and runtime start as
   * deploy, but each distinct module is stored once and all agent rows are written in one transaction,
   * which is what makes 100,000 deploys take seconds instead of a minute. Per agent, the result is its
   * AgentInfo or the error that refused it; refused agents leave nothing behind.
   */
  async deployMany(items: readonly { spec: AgentSpecInput; module: Uint8Array }[]): Promise<(AgentInfo | CaxtonError)[]> {
    const stored = new Map<Uint8Array, string>();
    const startedAt: ({ spec: AgentSpec; sha256: string; index: number } | undefined)[] = [];
    const results: (AgentInfo | CaxtonError)[] = [];
    const asError = (error: unknown) => (error instanceof CaxtonError ? error : new CaxtonError('INTERNAL', (error as Error).message));
    const names = new Set<string>();
    const starts: Promise<void>[] = [];
    for (const [index, item] of items.entries()) {
      let spec: AgentSpec;
      let sha256: string | undefined;
      try {
        spec = this.#prepare(item.spec, item.module);
        if (names.has(spec.name) || this.#busy.has(spec.name) || this.#o.state.agents.get(spec.name) || this.#o.runtime.has(spec.name)) {
          throw new CaxtonError('CONFLICT', `agent "${spec.name}" already exists`, { name: spec.name });
        }
        names.add(spec.name);
        sha256 = stored.get(item.module);
        if (sha256 === undefined) stored.set(item.module, (sha256 = this.#o.state.modules.put(item.module)));
      } catch (error) {
        results[index] = asError(error);
        continue;
      }
      // Started together, not one after the other: with agents on workers each start is a round trip to a
      // worker, and one at a time made 100,000 deploys take 16 s instead of 5.
      const started = { spec, sha256, index };
      starts.push(
        this.#o.runtime.start(spec, sha256, 1, item.module).then(
          () => void (startedAt[index] = started),
          (error: unknown) => void (results[index] = asError(error)),
        ),
      );
    }
    await Promise.all(starts);
    const started = startedAt.filter((entry) => entry !== undefined);
    this.#o.state.database.db.transaction(() => {
      for (const { spec, sha256 } of started) this.#o.state.agents.upsert({ spec, moduleSha256: sha256, state: 'running', version: 1 });
    })();
    for (const { spec, index } of started) {
      this.#o.directory.upsert(spec.name, this.#o.nodeId, spec.capabilities);
      results[index] = this.#o.runtime.info(spec.name);
    }
    this.#o.state.modules.pruneUnused();
    this.#o.logger.info({ agents: started.length, refused: items.length - started.length }, 'agents deployed in bulk');
    return results;
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

  /** running → draining → stopped (agent_shutdown runs); remembered, so it stays stopped after a node restart. */
  async stop(name: string): Promise<AgentInfo> {
    return this.#exclusive(name, async () => {
      this.#stored(name);
      await this.#o.runtime.stop(name);
      this.#o.state.agents.setState(name, 'stopped');
      this.#o.logger.info({ agent: name }, 'agent stopped');
      return this.#o.runtime.info(name);
    });
  }

  /** A stopped or failed agent gets a fresh instance of its current version; a running one is left alone. */
  async start(name: string): Promise<AgentInfo> {
    return this.#exclusive(name, () => this.#startCurrent(name));
  }

  /** Stop (agent_shutdown), then a fresh instance of the same version: the in-memory state starts over. */
  async restart(name: string): Promise<AgentInfo> {
    return this.#exclusive(name, async () => {
      this.#stored(name);
      await this.#o.runtime.stop(name);
      return this.#startCurrent(name);
    });
  }

  /** Back one version (of the AGENT_VERSIONS_KEPT kept): its module and spec, swapped in like an upgrade. */
  async rollback(name: string): Promise<AgentInfo> {
    return this.#exclusive(name, async () => {
      const stored = this.#stored(name);
      const previous = this.#o.state.agents.versions(name).find((v) => v.version < stored.version);
      if (!previous) {
        throw new CaxtonError('CONFLICT', `agent "${name}" has no version before ${stored.version} to roll back to`, { name, version: stored.version });
      }
      const module = this.#o.state.modules.get(previous.module_sha256);
      if (!module) throw new CaxtonError('CONFLICT', `the module of version ${previous.version} of "${name}" is no longer stored`, { name });
      await this.#o.runtime.upgrade(previous.spec, previous.module_sha256, previous.version, module);
      this.#o.state.agents.upsert({ spec: previous.spec, moduleSha256: previous.module_sha256, state: 'running', version: previous.version });
      this.#o.directory.upsert(name, this.#o.nodeId, previous.spec.capabilities);
      this.#o.logger.info({ agent: name, from: stored.version, to: previous.version }, 'agent rolled back');
      return this.#o.runtime.info(name);
    });
  }

  async #startCurrent(name: string): Promise<AgentInfo> {
    const stored = this.#stored(name);
    if (this.#o.runtime.state(name) === 'running') return this.#o.runtime.info(name);
    const module = this.#o.state.modules.get(stored.module_sha256);
    if (!module) throw new CaxtonError('CONFLICT', `the module of "${name}" is no longer stored`, { name });
    await this.#o.runtime.upgrade(stored.spec, stored.module_sha256, stored.version, module);
    this.#o.state.agents.setState(name, 'running');
    this.#o.logger.info({ agent: name }, 'agent started');
    return this.#o.runtime.info(name);
  }

  #stored(name: string) {
    const stored = this.#o.state.agents.get(name);
    if (!stored || !this.#o.runtime.has(name)) throw new CaxtonError('AGENT_NOT_FOUND', `no agent named "${name}"`, { name });
    return stored;
  }

  /** Starts every stored agent again after a restart; a stopped one comes back stopped. */
  async restore(): Promise<void> {
    // Agents of one module one after the other: each module is read from SQLite once (100,000 agents may share
    // one) and held only while its agents start.
    const stored = [...this.#o.state.agents.list()].sort((a, b) => (a.module_sha256 < b.module_sha256 ? -1 : a.module_sha256 > b.module_sha256 ? 1 : 0));
    // Started in groups, not one after the other: with agents on workers each start is a round trip to one.
    let group: Promise<void>[] = [];
    let groupBytes = 0;
    let sha256: string | undefined;
    let module: Buffer | undefined;
    for (const agent of stored) {
      if (agent.module_sha256 !== sha256) {
        sha256 = agent.module_sha256;
        module = this.#o.state.modules.get(sha256);
        groupBytes += module?.length ?? 0;
      }
      group.push(this.#restoreOne(agent, module));
      if (group.length >= RESTORE_GROUP || groupBytes >= RESTORE_GROUP_BYTES) {
        await Promise.all(group);
        group = [];
        groupBytes = 0;
      }
    }
    await Promise.all(group);
  }

  async #restoreOne(stored: ReturnType<NodeState['agents']['list']>[number], module: Buffer | undefined): Promise<void> {
    if (!module) {
      this.#o.logger.error({ agent: stored.name, sha256: stored.module_sha256 }, 'module missing; agent not restored');
      return;
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

  /**
   * The spec as a deploy on this node accepts it (defaults filled in; names, grants and this node's ceilings
   * checked); throws INVALID_ARGUMENT naming the field otherwise.
   */
  checkSpec(input: AgentSpecInput | AgentSpec): AgentSpec {
    return normalizeAgentSpec(input, this.#o.defaults, this.#o.ceilings);
  }

  /**
   * Starts here an agent another node ran (failover: its node died; a drain: it handed the agent over), from
   * its record: the same spec, version and module, in the state it had (a stopped agent comes back stopped).
   * The module's bytes match the sha256 the cluster agreed on. The spec is checked as a deploy here checks it
   * (names, capabilities, grants, this node's ceilings): it comes from a peer, and a record is anyone's word
   * while gossip is unencrypted (a joined node had `ams`, `Bad Name/../x` and fuel 10^15 adopted as sent). The
   * pin check does not apply: a pin stays in the spec, so the pinned node gets the agent back when it returns.
   * A name already running here is left alone.
   */
  async adopt(input: AgentSpec, module: Uint8Array, version: number, stopped: boolean): Promise<AgentInfo> {
    const spec = this.checkSpec(input);
    return this.#exclusive(spec.name, async () => {
      if (this.#o.runtime.has(spec.name)) return this.#o.runtime.info(spec.name);
      const sha256 = this.#o.state.modules.put(module);
      try {
        await this.#o.runtime.start(spec, sha256, version, module);
        if (stopped) await this.#o.runtime.stop(spec.name);
        this.#o.state.agents.upsert({ spec, moduleSha256: sha256, state: stopped ? 'stopped' : 'running', version });
      } catch (error) {
        if (this.#o.runtime.has(spec.name)) await this.#o.runtime.remove(spec.name);
        this.#o.state.modules.pruneUnused();
        throw error;
      }
      this.#o.directory.upsert(spec.name, this.#o.nodeId, spec.capabilities);
      this.#o.logger.info({ agent: spec.name, sha256, version }, 'agent taken over');
      return this.#o.runtime.info(spec.name);
    });
  }

  /**
   * Stops and forgets the copy of an agent that runs on another node too and is kept there (after a
   * partition heals). The caller has already pointed the directory at the keeper, so new messages go there;
   * what the mailbox holds is handled before the copy stops. Not a delete: the agent lives on.
   */
  async relinquish(name: string): Promise<void> {
    await this.#exclusive(name, async () => {
      if (this.#o.runtime.has(name)) await this.#o.runtime.remove(name);
      this.#o.state.agents.delete(name);
      this.#o.state.modules.pruneUnused();
      this.#o.logger.info({ agent: name }, 'duplicate copy of the agent stopped; it runs on its keeper');
    });
  }

  /** Remembers a runtime state change that must survive a restart (stopped, failed, running again). */
  persistState(name: string, state: AgentInfo['state']): void {
    if (state === 'running' || state === 'stopped' || state === 'failed') this.#o.state.agents.setState(name, state);
  }

  #prepare(input: AgentSpecInput, module: Uint8Array): AgentSpec {
    const spec = this.checkSpec(input);
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
    validateAgentModule(module, spec.limits, this.#o.structureLimits);
    return spec;
  }

  async #exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(name)) {
      throw new CaxtonError('CONFLICT', `agent "${name}" is being changed by another request; try again`, { name, reason: 'busy' });
    }
    this.#busy.add(name);
    try {
      return await work();
    } finally {
      this.#busy.delete(name);
    }
  }
}
