// Take-overs: an agent of a dead node that this node now owns (the plan's 'take-over', ordered by failover.ts
// once a quorum confirmed this side) is adopted here from its registry record, with the spec this node would
// accept at deploy, at most failover.take_over_concurrency at once, and logged with the time since its node
// was declared gone. Apart from the plan that orders it and from where the module comes from
// (failover-modules.ts): this is the adoption itself, its queue, and the record's spec check.
import type { AgentRecord } from '../cluster/registry/agent-record.ts';
import type { FailoverContext } from './failover-context.ts';
import { toolGrants } from './registry-binding.ts';
import type { AgentSpec } from './services.ts';

export class TakeOvers {
  readonly #c: FailoverContext;
  readonly #moduleFor: (record: AgentRecord, deadNode: string) => Promise<Uint8Array>;
  /** When each node was first seen dead or left by this node: what the take-over log measures from. */
  readonly #goneSince = new Map<string, number>();
  /**
   * Registry writes (name, Lamport time, writer) whose spec checkSpec refused: not tried again at every check
   * (nor logged each time) until the name is written again. Bounded: cleared when full.
   */
  readonly #refusedSpecs = new Set<string>();
  /** Take-overs queued for a free slot (take_over_concurrency at once). */
  readonly #queue: { record: AgentRecord; spec: AgentSpec; from: string }[] = [];
  #running = 0;

  constructor(context: FailoverContext, moduleFor: (record: AgentRecord, deadNode: string) => Promise<Uint8Array>) {
    this.#c = context;
    this.#moduleFor = moduleFor;
  }

  /** A membership change: a node gone is timed from the first time this node saw it so. */
  memberChanged(id: string, state: string): void {
    if (state === 'dead' || state === 'left') {
      if (!this.#goneSince.has(id)) this.#goneSince.set(id, this.#c.now());
    } else {
      this.#goneSince.delete(id);
    }
  }

  /** Drops the marks of members the membership no longer knows. */
  forgetAbsent(known: (id: string) => boolean): void {
    for (const id of this.#goneSince.keys()) if (!known(id)) this.#goneSince.delete(id);
  }

  /** Queues the take-over of `record` from the dead node `from`, unless this node refuses its spec. */
  start(record: AgentRecord, from: string): void {
    const spec = this.#checkedSpec(record, from);
    if (spec === undefined) return;
    this.#c.busy.add(record.name);
    this.#queue.push({ record, spec, from });
    this.#pump();
  }

  /** Drops the take-overs still queued (the ones running finish). */
  close(): void {
    this.#queue.length = 0;
  }

  /** The spec to take the record over with, or undefined when this node refuses it (logged once per write). */
  #checkedSpec(record: AgentRecord, from: string): AgentSpec | undefined {
    const spec = specOf(record);
    const check = this.#c.options.checkSpec;
    if (!check) return spec;
    const write = this.#c.options.registry.writeOf(record.name);
    const key = `${record.name} ${write?.lamport ?? 0} ${write?.writer ?? ''}`;
    if (this.#refusedSpecs.has(key)) return undefined;
    try {
      return check(spec);
    } catch (error) {
      if (this.#refusedSpecs.size >= MAX_REFUSED_SPECS) this.#refusedSpecs.clear();
      this.#refusedSpecs.add(key);
      this.#c.stats.takeOverFailures += 1;
      this.#c.warn(
        { agent: record.name, from, writer: write?.writer, err: (error as Error).message },
        'failover: not taking over an agent whose registry record this node would not deploy; it stays unplaced',
      );
      return undefined;
    }
  }

  #pump(): void {
    while (this.#running < this.#c.options.settings.takeOverConcurrency && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.#running += 1;
      void this.#takeOver(next.record, next.spec, next.from).finally(() => {
        this.#running -= 1;
        this.#c.busy.delete(next.record.name);
        this.#pump();
      });
    }
  }

  async #takeOver(record: AgentRecord, spec: AgentSpec, from: string): Promise<void> {
    if (this.#c.closed()) return;
    const o = this.#c.options;
    try {
      const began = this.#c.now();
      const module = await this.#moduleFor(record, from);
      const moduleMs = this.#c.now() - began;
      await o.agents.adopt(spec, module, record.version, record.state === 'stopped');
      this.#c.stats.takenOver += 1;
      const since = this.#goneSince.get(from);
      const tookMs = since === undefined ? null : this.#c.now() - since;
      o.logger.info(
        { agent: record.name, from, version: record.version, since_declared_ms: tookMs, module_ms: moduleMs, start_ms: this.#c.now() - began - moduleMs },
        'failover: agent of a dead node started here',
      );
      o.events.publish('agent.failover', { agent: record.name, from, to: o.nodeId, since_declared_ms: tookMs });
    } catch (error) {
      this.#c.stats.takeOverFailures += 1;
      this.#c.warn({ agent: record.name, from, err: (error as Error).message }, 'failover: take-over failed; retried at the next check');
    }
  }
}

/** Refused registry writes remembered (~100 B each); past it the set starts over (each is then logged once more). */
const MAX_REFUSED_SPECS = 10_000;

/** The spec an agent was deployed with, as its registry record carries it. */
export function specOf(record: AgentRecord): AgentSpec {
  const spec: AgentSpec = {
    name: record.name,
    capabilities: [...record.capabilities],
    tools: toolGrants(record.tools),
    limits: { ...record.limits },
  };
  if (record.pinned !== undefined) spec.node = record.pinned;
  if (record.failover !== undefined) spec.failover = record.failover;
  return spec;
}
