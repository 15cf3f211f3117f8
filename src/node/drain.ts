// Drain: this node hands every agent it runs to the node placement now picks for it, and stays a member
// owning none (`caxton node drain`); a graceful leave (`caxton cluster leave`, SIGTERM) is a drain followed by
// the gossip leave. Per agent, in this order:
//   1. its new owner: rendezvous over the placement candidates (alive, not draining, compatible), this node
//      excluded; a pinned agent stays (its pin is the operator's word) and is reported;
//   2. the owner deploys it with the same spec (module, limits, capabilities, tool grants) and version
//      (`agent.adopt`, fetching the module from here), and publishes it to the registry;
//   3. here, in one synchronous step: the directory points the name at the owner (so every later message is
//      routed there), the instance is shut down, the queued messages are forwarded to the owner in their
//      order, and the stored record is forgotten (without a registry tombstone: the owner's record stands).
// The agent keeps running here until step 3, so nothing waits on the hand-over. Whatever reaches this node for
// it afterwards is forwarded; a message that cannot be forwarded gets a `failure` to its sender.
// Then the node lingers `cluster.drain_linger_ms`, forwarding, while the registry converges.
import type { DrainReportView } from '../api/cluster-services.ts';
import { rendezvousOwner } from '../cluster/placement/rendezvous.ts';
import type { AgentRegistry } from '../cluster/registry/agent-registry.ts';
import { CaxtonError, describeError } from '../errors.ts';
import type { AclMessage } from '../messaging/message.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentInfo, AgentSpec } from './services.ts';

export interface DrainParts {
  nodeId: string;
  /** The agents this node runs now. */
  localAgents(): string[];
  /** The stored agent as a hand-over sends it; undefined when it is not (or no longer) stored here. */
  handoverRecord(name: string): { spec: AgentSpec; module: Uint8Array; version: number; state: 'running' | 'stopped' } | undefined;
  /** The sha256 of the module an agent runs here. */
  moduleOf(name: string): string | undefined;
  /** Placement candidates cluster-wide (this node is excluded by the drain). */
  candidates(): string[];
  setDraining(on: boolean): void;
  /** Deploys the agent on `node` (agent.adopt over the routing link). */
  handOver(node: string, record: NonNullable<ReturnType<DrainParts['handoverRecord']>>): Promise<AgentInfo>;
  /** Points `name` at `node` in the router's directory without publishing anything. */
  routeTo(name: string, node: string, capabilities: readonly string[]): void;
  registry: Pick<AgentRegistry, 'disown'> | undefined;
  /** Takes the agent out of the runtime; its queued messages, oldest first. */
  release(name: string): AclMessage[];
  /**
   * Before release, where the runtime needs it (agents on worker threads): the agent stops and its mailbox
   * comes back to the main thread, which holds later arrivals after it. Never rejects.
   */
  prepareRelease?(name: string): Promise<void>;
  /** Forgets the stored record (no tombstone), and once at the end, unused modules. */
  forget(name: string): void;
  pruneModules(): void;
  /** Sends one message to `receiver` on `node`; false when it could not be queued (the caller answers). */
  forward(node: string, message: AclMessage, receiver: string): boolean;
  /** Answers the sender of a message that could not be forwarded. */
  undeliverable(message: AclMessage, receiver: string, why: string): void;
  lingerMs: number;
  concurrency: number;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * When no other node is a candidate for a moment (one marked suspect while a busy machine answers probes
 * late), a hand-over waits this long, retrying every NO_CANDIDATE_RETRY_MS, before it reports the agent.
 */
const NO_CANDIDATE_WAIT_MS = 10_000;
const NO_CANDIDATE_RETRY_MS = 250;

/** Passes over the local agents: a deploy that lands here during a drain (placement raced the flag) is moved on the next. */
const DRAIN_PASSES = 3;

export class NodeDrain {
  readonly #p: DrainParts;
  /** Agents between "owner asked" and the switch: the registry binding must not mistake the owner's record for a conflict. */
  readonly #inFlight = new Set<string>();
  #running: Promise<DrainReportView> | undefined;
  #draining = false;
  /** Some other node was a candidate when the drain began: an empty list later is transient, worth waiting out. */
  #hadOtherNode = false;

  constructor(parts: DrainParts) {
    this.#p = parts;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** True when some other node could take agents now (a lone node's leave then keeps them stored instead). */
  hasOtherNode(): boolean {
    return this.#p.candidates().some((n) => n !== this.#p.nodeId);
  }

  handingOver(name: string): boolean {
    return this.#inFlight.has(name);
  }

  /** Drains (once at a time: a second call while one runs gets the same report). */
  drain(): Promise<DrainReportView> {
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Placement may choose this node again; agents moved away stay where they are. */
  undrain(): void {
    this.#draining = false;
    this.#p.setDraining(false);
  }

  async #drain(): Promise<DrainReportView> {
    const p = this.#p;
    const started = Date.now();
    this.#draining = true;
    p.setDraining(true);
    const report: DrainReportView = { node: p.nodeId, moved: 0, owners: {}, pinned: [], failed: [], forwarded: 0, undeliverable: 0, duration_ms: 0 };
    this.#hadOtherNode = this.hasOtherNode();
    const settled = new Set<string>();
    for (let pass = 0; pass < DRAIN_PASSES; pass++) {
      const todo = p.localAgents().filter((name) => !settled.has(name));
      if (todo.length === 0) break;
      // One agent of each module first: its new owner fetches and compiles the module once, instead of every
      // concurrent hand-over of that module doing it at the same time (8 s for the first 32 of one module).
      const firsts = new Map<string, string>();
      for (const name of todo) {
        const sha = p.moduleOf(name);
        if (sha !== undefined && !firsts.has(sha)) firsts.set(sha, name);
      }
      const first = new Set(firsts.values());
      const run = async (name: string): Promise<void> => {
        if ((await this.#handOverOne(name, report)) === 'done') settled.add(name);
      };
      await pool([...first], p.concurrency, run);
      await pool(todo.filter((name) => !first.has(name)), p.concurrency, run);
    }
    for (const name of p.localAgents()) {
      if (!settled.has(name)) report.failed.push({ agent: name, error: 'it was being deployed or changed during the drain; drain again' });
    }
    if (report.moved > 0) p.pruneModules();
    p.logger.info(
      { moved: report.moved, pinned: report.pinned.length, failed: report.failed.length, forwarded: report.forwarded, undeliverable: report.undeliverable, ms: Date.now() - started },
      'drain: agents handed over',
    );
    if (report.moved > 0 && p.lingerMs > 0) await (p.sleep ?? sleep)(p.lingerMs);
    report.duration_ms = Date.now() - started;
    return report;
  }

  async #handOverOne(name: string, report: DrainReportView): Promise<'done' | 'retry'> {
    const p = this.#p;
    const record = p.handoverRecord(name);
    if (!record) return 'retry'; // deploying or deleted right now: the next pass sees where it ended
    if (record.spec.node === p.nodeId) {
      report.pinned.push(name);
      return 'done';
    }
    const tried = new Set<string>([p.nodeId]);
    let lastError = 'no other node can take agents (every other member is draining, gone or incompatible)';
    const waitUntil = Date.now() + NO_CANDIDATE_WAIT_MS;
    for (;;) {
      const owner = rendezvousOwner(name, p.candidates().filter((n) => !tried.has(n)));
      if (owner === undefined) {
        // Nobody refused yet and nobody is a candidate right now: wait for one (a suspect member clears).
        if (tried.size === 1 && this.#hadOtherNode && Date.now() < waitUntil) {
          await (p.sleep ?? sleep)(NO_CANDIDATE_RETRY_MS);
          continue;
        }
        break;
      }
      tried.add(owner);
      this.#inFlight.add(name);
      try {
        const asked = Date.now();
        await p.handOver(owner, record);
        p.logger.debug({ agent: name, owner, ms: Date.now() - asked }, 'drain: handed over');
        if (p.prepareRelease) await p.prepareRelease(name);
        this.#switch(name, owner, record.spec.capabilities, report);
        return 'done';
      } catch (error) {
        lastError = `node "${owner}": ${describeError(error)}`;
        p.logger.warn({ agent: name, owner, err: lastError }, 'drain: hand-over refused; trying the next node');
        if (error instanceof CaxtonError && error.code === 'CONFLICT' && /already exists/.test(error.message)) break;
      } finally {
        this.#inFlight.delete(name);
      }
    }
    report.failed.push({ agent: name, error: lastError });
    return 'done';
  }

  /** Synchronous: no message can be routed between taking the mailbox and pointing the name at the owner. */
  #switch(name: string, owner: string, capabilities: readonly string[], report: DrainReportView): void {
    const p = this.#p;
    p.routeTo(name, owner, capabilities);
    p.registry?.disown(name);
    let queued: AclMessage[] = [];
    try {
      queued = p.release(name);
    } catch (error) {
      p.logger.warn({ agent: name, err: (error as Error).message }, 'drain: the agent was already gone here');
    }
    p.forget(name);
    for (const message of queued) {
      if (p.forward(owner, message, name)) report.forwarded++;
      else {
        report.undeliverable++;
        p.undeliverable(message, name, `agent "${name}" moved to node "${owner}", which cannot be reached`);
      }
    }
    report.moved++;
    report.owners[name] = owner;
  }
}

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await run(item);
      } catch {
        /* each run reports its own failures */
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
