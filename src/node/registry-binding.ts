// Keeps this node's agents and the cluster-wide agent registry in step, both ways:
// - local changes (deploy, upgrade, rollback, restore, delete, and every runtime state change) are
//   published to the registry, which gossips them;
// - records of agents on other nodes go into the router's directory, so `lookup` answers
//   {kind: 'remote', node}, and `capability:` addressing, `df` and `ams` see the whole cluster.
// The node's own runtime stays the truth about its own agents: a registry record saying one of them runs
// elsewhere never takes it out of the directory (two owners are for placement to settle, not for this).
import type { AgentRecord } from '../cluster/registry/agent-record.ts';
import type { AgentRegistry } from '../cluster/registry/agent-registry.ts';
import { LocalAgentDirectory } from '../messaging/agent-directory.ts';
import { LogBudget } from '../cluster/log-budget.ts';
import type { Logger } from '../observability/logger.ts';
import type { EventBus } from './event-bus.ts';
import type { AgentInfo, ToolGrants } from './services.ts';

/**
 * The router's directory, telling the binding when the node records or removes one of ITS OWN agents
 * (AgentService does that on deploy, upgrade, rollback, restore and delete).
 */
export class ObservedAgentDirectory extends LocalAgentDirectory {
  /** Set by the binding once the cluster is up. */
  onLocalUpsert: ((name: string) => void) | undefined;
  onLocalRemove: ((name: string) => void) | undefined;

  override upsert(name: string, node: string, capabilities: readonly string[]): void {
    super.upsert(name, node, capabilities);
    if (node === this.nodeId) this.onLocalUpsert?.(name);
  }

  override remove(name: string): boolean {
    const local = this.nodeOf(name) === this.nodeId;
    const removed = super.remove(name);
    if (removed && local) this.onLocalRemove?.(name);
    return removed;
  }
}

export interface RegistryBindingOptions {
  registry: AgentRegistry;
  directory: ObservedAgentDirectory;
  /** The agent as this node runs it, undefined when it does not run it. */
  localAgent: (name: string) => AgentInfo | undefined;
  localAgents: () => AgentInfo[];
  /** The node a stored spec pins the agent to. */
  pinnedOf: (name: string) => string | undefined;
  /** The stored spec's failover policy, when it names one. */
  failoverOf?: (name: string) => 'move' | 'wait' | undefined;
  /** The node's event bus: `agent.state` events are runtime state changes. */
  events: EventBus;
  logger: Logger;
  /** True while a drain hands `name` to another node: that node's record is expected, not a conflict. */
  handingOver?: (name: string) => boolean;
}

/**
 * "Runs here but the registry places it elsewhere" lines: one per such write, and anyone can gossip such
 * writes while gossip is unencrypted (5,000 datagrams of 77 bytes wrote 5,000 lines, 1 MiB of log). 20 at
 * once, then one a second; the lines held back are counted in the next.
 */
const CONFLICT_LOG_BURST = 20;
const CONFLICT_LOG_PER_SECOND = 1;

export class RegistryBinding {
  private readonly o: RegistryBindingOptions;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly conflictLog = new LogBudget(CONFLICT_LOG_BURST, CONFLICT_LOG_PER_SECOND, () => Date.now());

  constructor(options: RegistryBindingOptions) {
    this.o = options;
  }

  /** Publishes every local agent, copies every remote one into the directory, then follows both sides. */
  start(): void {
    const { registry, directory, events } = this.o;
    for (const agent of this.o.localAgents()) this.publish(agent.name);
    for (const record of registry.list()) this.remoteChanged(record.name, record, undefined);
    this.unsubscribe.push(registry.onChange((name, current, previous) => this.remoteChanged(name, current, previous)));
    directory.onLocalUpsert = (name) => this.publish(name);
    directory.onLocalRemove = (name) => this.withdraw(name);
    this.unsubscribe.push(
      events.subscribe((event) => {
        // Only agents the directory holds as ours: a deploy still starting, or one that failed and was
        // rolled back, has nothing to publish yet (or any more).
        const agent = event.data.agent;
        if (event.type === 'agent.state' && typeof agent === 'string' && directory.nodeOf(agent) === directory.nodeId) this.publish(agent);
      }),
    );
  }

  close(): void {
    this.o.directory.onLocalUpsert = undefined;
    this.o.directory.onLocalRemove = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Publishes this node's record of a local agent again (failover: this node keeps a disputed agent). */
  republish(name: string): void {
    this.publish(name);
  }

  private publish(name: string): void {
    const agent = this.o.localAgent(name);
    if (!agent) return;
    try {
      this.o.registry.publish(registryRecordOf(agent, this.o.pinnedOf(name), this.o.failoverOf?.(name)));
    } catch (error) {
      this.o.logger.error({ agent: name, err: error }, 'agent not published to the cluster registry');
    }
  }

  private withdraw(name: string): void {
    try {
      this.o.registry.withdraw(name);
    } catch (error) {
      this.o.logger.error({ agent: name, err: error }, 'agent deletion not published to the cluster registry');
    }
  }

  private remoteChanged(name: string, current: AgentRecord | undefined, previous: AgentRecord | undefined): void {
    const { directory } = this.o;
    const self = directory.nodeId;
    if (directory.nodeOf(name) === self) {
      if (current && current.node !== self && !this.o.handingOver?.(name)) {
        const suppressed = this.conflictLog.take();
        if (suppressed !== undefined) {
          this.o.logger.warn({ agent: name, here: self, registry: current.node, ...(suppressed > 0 ? { suppressed } : {}) }, 'agent runs here but the registry places it on another node');
        }
      }
      return;
    }
    if (current && current.node !== self) directory.upsert(name, current.node, current.capabilities);
    else if (previous && previous.node !== self) directory.remove(name);
  }
}

/** The registry record of a local agent. */
export function registryRecordOf(agent: AgentInfo, pinned: string | undefined, failover?: 'move' | 'wait'): AgentRecord {
  const record: AgentRecord = {
    name: agent.name,
    node: agent.node,
    version: agent.version,
    module_sha256: agent.module_sha256,
    capabilities: agent.capabilities,
    state: agent.state,
    limits: agent.limits,
  };
  if (pinned !== undefined) record.pinned = pinned;
  if (failover !== undefined) record.failover = failover;
  const tools = toolStrings(agent.tools);
  if (tools.length > 0) record.tools = tools;
  return record;
}

/** Tool grants as `server/tool` or `server/*` strings, the registry's form. */
export function toolStrings(grants: ToolGrants): string[] {
  const out: string[] = [];
  for (const [server, grant] of Object.entries(grants)) {
    if (grant === '*') out.push(`${server}/*`);
    else for (const tool of grant) out.push(`${server}/${tool}`);
  }
  return out;
}

/** The registry's tool strings as grants again. */
export function toolGrants(tools: readonly string[] | undefined): ToolGrants {
  const grants: ToolGrants = {};
  for (const t of tools ?? []) {
    const slash = t.indexOf('/');
    if (slash <= 0) continue;
    const server = t.slice(0, slash);
    const tool = t.slice(slash + 1);
    const current = grants[server];
    if (tool === '*' || current === '*') grants[server] = '*';
    else grants[server] = [...(current ?? []), tool];
  }
  return grants;
}
