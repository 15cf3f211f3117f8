// Failover on a real node: runs the pure plan (src/cluster/placement/failover-plan.ts) whenever the
// membership or the registry changes, and every failover.check_interval_ms as a safety net, and carries out
// what it says: take over the agents of dead nodes this node now owns (from their registry records, with
// the module from this node's store, its standby copies, or any live peer), stop a duplicate copy that its
// keeper runs, claim again an agent the registry wrongly places elsewhere. It also keeps, in memory and
// bounded, the modules of agents it would take over, fetched while their owner is alive.
import { needsConfirmation, planFailover, quorumConfirmed, takeOverMode, standbyModules, type FailoverAction } from '../cluster/placement/failover-plan.ts';
import type { QuorumView } from '../cluster/quorum.ts';
import type { AgentRecord } from '../cluster/registry/agent-record.ts';
import type { AgentRegistry } from '../cluster/registry/agent-registry.ts';
import type { Logger } from '../observability/logger.ts';
import { sha256Hex } from '../state/module-store.ts';
import type { AgentService } from './agent-service.ts';
import type { EventBus } from './event-bus.ts';
import type { ObservedAgentDirectory } from './registry-binding.ts';
import { toolGrants } from './registry-binding.ts';
import type { AgentSpec } from './services.ts';
import { isLive } from '../cluster/membership/messages.ts';
import { LogBudget } from '../cluster/log-budget.ts';

export interface FailoverSettings {
  checkIntervalMs: number;
  standbyModuleBytes: number;
  takeOverConcurrency: number;
  moduleFetchTimeoutMs: number;
}

/** A member as failover needs it. */
export interface FailoverMember {
  id: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  /** Can run agents: a Caxton node with routing (or this node). */
  placeable: boolean;
}

export interface FailoverOptions {
  nodeId: string;
  registry: AgentRegistry;
  members: () => FailoverMember[];
  quorum: () => QuorumView;
  agents: AgentService;
  runsHere: (name: string) => boolean;
  /** Names of the agents this node runs. */
  localNames: () => string[];
  directory: ObservedAgentDirectory;
  modules: { get(sha256: string): Uint8Array | undefined; has(sha256: string): boolean };
  /** The module's bytes from a peer (module.get over the routing link); throws when it has none. */
  fetchModule: (node: string, sha256: string, timeoutMs: number) => Promise<Uint8Array>;
  /** Instruments and compiles a standby module ahead of a take-over (AgentRuntime.prepareModule). */
  prepareModule?: (sha256: string, bytes: Uint8Array, memoryPages: number) => Promise<void>;
  /** A round trip to a peer (failover.ping over the routing link): resolves true when it answered in time. */
  ping: (node: string, timeoutMs: number) => Promise<boolean>;
  /** Publishes this node's record of a local agent again. */
  republish: (name: string) => void;
  /**
   * True when `node` answers, within `timeoutMs`, that it runs `name` itself (agent.get over the routing
   * link). A copy yields only to a keeper that says so: the registry record naming the keeper is anyone's
   * word while gossip is unencrypted, and a stale one after a crash. Absent: the record is believed.
   */
  keeperRuns?: (node: string, name: string, timeoutMs: number) => Promise<boolean>;
  /**
   * Asks `writer` (registry.write over the routing link) whether it made the deletion of `name` at Lamport
   * time `lamport` this node holds: `confirmed` (or a writer of a version without the method), `refuted`
   * (it holds no such write), `unknown` (no answer now: asked again at the next check). An agent running
   * here is deleted for a deletion by another node only once its writer confirms it: a tombstone is anyone's
   * word while gossip is unencrypted (one 30-byte datagram per agent deleted every agent of a node). Absent:
   * the tombstone is believed.
   */
  confirmDeletion?: (writer: string, name: string, lamport: number, timeoutMs: number) => Promise<'confirmed' | 'refuted' | 'unknown'>;
  /**
   * The spec as this node accepts it at deploy (its agents.max_fuel and max_memory_pages, the mailbox bound,
   * the names its system agents keep); throws INVALID_ARGUMENT otherwise. A registry record is anyone's word
   * while gossip is unencrypted, and a peer's otherwise: it is not taken over past this node's own bounds.
   */
  checkSpec?: (spec: AgentSpec) => AgentSpec;
  /**
   * Hands registry update payloads to a peer (failover.entries over the routing link), which merges them as
   * if gossiped; rejects when the peer did not take them. Absent: a member back from gone learns this node's
   * writes by gossip and push-pull only.
   */
  pushEntries?: (node: string, entries: Uint8Array[], timeoutMs: number) => Promise<void>;
  events: EventBus;
  settings: FailoverSettings;
  logger: Logger;
  now?: () => number;
}

export interface FailoverStats {
  takenOver: number;
  yielded: number;
  reclaimed: number;
  takeOverFailures: number;
  standbyModules: number;
  standbyBytes: number;
}

export class Failover {
  readonly #o: FailoverOptions;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  /** Names being taken over, yielded or reclaimed now: one action per name at a time. */
  readonly #busy = new Set<string>();
  /** When each node was first seen dead or left by this node: what the take-over log measures from. */
  readonly #goneSince = new Map<string, number>();
  /**
   * The registry's Lamport time when each member was first seen suspect, dead or left (whichever came first:
   * a cut is suspected seconds before the death is declared, and writes meanwhile may not have reached it),
   * and whether it was declared gone since: what a member back from gone missed of this node came after.
   */
  readonly #goneAtLamport = new Map<string, { lamport: number; gone: boolean }>();
  /** Members back from gone still to be handed this node's writes since that mark (one entry per member). */
  readonly #catchUps = new Map<string, { since: number; attempts: number; sending: boolean }>();
  /** Other nodes' modules held for a take-over, in least-recently-wanted order (Map order). */
  readonly #standby = new Map<string, Uint8Array>();
  #standbyBytes = 0;
  readonly #fetching = new Set<string>();
  /** Modules larger than the whole standby budget: never fetched ahead (a take-over fetches them). */
  readonly #tooLarge = new Set<string>();
  #scheduled = false;
  /** A confirmation round is out: take-overs wait for its answer. */
  #confirming = false;
  /**
   * Names whose newest registry write became a deletion since the last pass of #dropDeleted, and names a
   * pass could not settle yet (busy here): at most one per registry record (registry.max_records). 'all'
   * until the first pass, which looks at every local agent.
   */
  #deletions: Set<string> | 'all' = 'all';
  #closed = false;
  readonly #stats: FailoverStats = { takenOver: 0, yielded: 0, reclaimed: 0, takeOverFailures: 0, standbyModules: 0, standbyBytes: 0 };
  /**
   * Registry writes (name, Lamport time, writer) whose spec checkSpec refused: not tried again at every check
   * (nor logged each time) until the name is written again. Bounded: cleared when full.
   */
  readonly #refusedSpecs = new Set<string>();
  /** Warnings peers' registry writes can cause at will (a forged write each): 100 at once, then 10 a second. */
  readonly #peerLog = new LogBudget(PEER_LOG_BURST, PEER_LOG_PER_SECOND, () => Date.now());
  /** Take-overs queued for a free slot (take_over_concurrency at once). */
  readonly #queue: { record: AgentRecord; spec: AgentSpec; from: string }[] = [];
  #running = 0;

  constructor(options: FailoverOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.check(), options.settings.checkIntervalMs);
    this.#timer.unref();
    const offRegistry = options.registry.onChange((name, current) => {
      if (current === undefined && this.#deletions !== 'all') this.#deletions.add(name);
      this.schedule();
    });
    const offEvents = options.events.subscribe((event) => {
      if (event.type === 'member' && typeof event.data.id === 'string') this.memberChanged(event.data.id, String(event.data.state));
    });
    this.#unsubscribe = () => {
      offRegistry();
      offEvents();
    };
  }

  get stats(): FailoverStats {
    return { ...this.#stats, standbyModules: this.#standby.size, standbyBytes: this.#standbyBytes };
  }

  /** A membership change: noted (for the take-over time) and checked at once. */
  memberChanged(id: string, state: string): void {
    const gone = state === 'dead' || state === 'left';
    if (gone || state === 'suspect') {
      const mark = this.#goneAtLamport.get(id) ?? { lamport: this.#o.registry.stats().lamport, gone: false };
      mark.gone ||= gone;
      this.#goneAtLamport.set(id, mark);
    }
    if (gone) {
      if (!this.#goneSince.has(id)) this.#goneSince.set(id, this.#now());
    } else {
      this.#goneSince.delete(id);
      const mark = this.#goneAtLamport.get(id);
      if (mark !== undefined && state === 'alive') {
        this.#goneAtLamport.delete(id);
        if (mark.gone && this.#o.pushEntries) this.#catchUps.set(id, { since: mark.lamport, attempts: 0, sending: false });
      }
    }
    this.schedule();
  }

  /** Coalesces a burst of changes (a push-pull merging thousands of records) into one check. */
  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.check();
    });
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    this.#queue.length = 0;
  }

  /**
   * One pass of the plan; every failure is logged here and retried at the next pass. Take-overs need a
   * confirmed side (failover-plan.ts quorumConfirmed): they run from the pass that follows a successful
   * confirmation round, which this pass starts when the plan has any.
   */
  check(confirmed = false): void {
    if (this.#closed) return;
    try {
      const members = this.#o.members();
      const states = new Map(members.map((m) => [m.id, m.state]));
      const alive = members.filter((m) => m.placeable && isLive(m.state)).map((m) => m.id);
      if (!alive.includes(this.#o.nodeId)) alive.push(this.#o.nodeId);
      const records = this.#o.registry.list();
      const actions = planFailover({
        self: this.#o.nodeId,
        mode: takeOverMode(this.#o.quorum(), members.filter((m) => m.state === 'alive').length),
        alive,
        gone: (node) => {
          const state = states.get(node);
          return state === 'dead' || state === 'left';
        },
        records,
        runsHere: (name) => this.#o.runsHere(name) || this.#busy.has(name),
      });
      const held = actions.filter((a) => needsConfirmation(a) && !this.#busy.has(nameOf(a)));
      for (const action of actions) if (!needsConfirmation(action) || confirmed) this.#act(action);
      if (held.length > 0 && !confirmed) this.#confirm(members);
      this.#dropDeleted();
      // A member the membership has forgotten (reaped long after its death) takes its marks with it.
      for (const id of this.#goneAtLamport.keys()) if (!states.has(id)) this.#goneAtLamport.delete(id);
      for (const id of this.#goneSince.keys()) if (!states.has(id)) this.#goneSince.delete(id);
      this.#catchUp(members);
      this.#keepStandby(alive, records);
    } catch (error) {
      this.#o.logger.error({ err: error }, 'failover check failed; retrying at the next one');
    }
  }

  /**
   * An agent running here whose newest registry write is a deletion by another node was deleted while this
   * node was away (crashed, or cut off: an unplaced agent of a dead node is deleted from any node): it goes
   * here too. Only agents the directory holds as this node's, so a deploy still starting is never touched
   * (its record is published in the same turn the directory gets it). The names come from the registry's
   * change events, not from a pass over every local agent at each check: a deletion merged below this
   * node's Lamport time changes no clock, and a name busy here is looked at again at the next check.
   */
  #dropDeleted(): void {
    const { registry, directory } = this.#o;
    const names = this.#deletions === 'all' ? this.#o.localNames() : [...this.#deletions];
    this.#deletions = new Set();
    for (const name of names) {
      if (directory.nodeOf(name) !== this.#o.nodeId || !registry.deleted(name)) continue;
      if (this.#busy.has(name) || !this.#o.runsHere(name)) {
        this.#deletions.add(name);
        continue;
      }
      const write = registry.writeOf(name);
      const confirm = this.#o.confirmDeletion;
      if (!confirm || write === undefined || write.writer === this.#o.nodeId) {
        this.#busy.add(name);
        void this.#deleteHere(name).finally(() => this.#busy.delete(name));
        continue;
      }
      const writer = this.#o.members().find((m) => m.id === write.writer);
      if (writer === undefined || !writer.placeable) {
        this.#keepDeleted(name, write.writer, 'its writer is no Caxton member');
        continue;
      }
      if (!isLive(writer.state)) {
        // A member this node does not see alive yet (a partition healing: the deletion often arrives before
        // its writer's alive): asked once it is. The agent keeps running meanwhile, and is not published
        // again, which would undo a deletion its writer did make. A writer the membership forgets is refuted.
        this.#deletions.add(name);
        continue;
      }
      this.#busy.add(name);
      void confirm(write.writer, name, write.lamport, Math.min(this.#o.settings.checkIntervalMs, 1000))
        .catch(() => 'unknown' as const)
        .then((answer) => {
          if (this.#closed) return;
          // Looked at again: the registry may have moved on while the writer was asked.
          const now = registry.writeOf(name);
          if (!registry.deleted(name) || now?.lamport !== write.lamport || now.writer !== write.writer) {
            if (this.#deletions !== 'all') this.#deletions.add(name);
            return;
          }
          if (answer === 'confirmed') return this.#deleteHere(name);
          if (answer === 'refuted') this.#keepDeleted(name, write.writer, 'its writer says it made no such deletion');
          else if (this.#deletions !== 'all') this.#deletions.add(name);
        })
        .finally(() => this.#busy.delete(name));
    }
  }

  async #deleteHere(name: string): Promise<void> {
    this.#warn({ agent: name }, 'agent deleted in the cluster while this node was away; deleting it here');
    try {
      await this.#o.agents.delete(name);
    } catch (error) {
      this.#o.logger.error({ agent: name, err: (error as Error).message }, 'failover: deleting the agent here failed; retried at the next check');
      if (this.#deletions !== 'all') this.#deletions.add(name);
    }
  }

  /** A deletion of an agent running here that its writer does not confirm: the agent stays, and its record is written again. */
  #keepDeleted(name: string, writer: string, why: string): void {
    this.#stats.reclaimed += 1;
    this.#warn({ agent: name, writer }, `failover: the registry holds a deletion of an agent running here, but ${why}; keeping the agent and publishing it again`);
    this.#o.republish(name);
  }

  /** A warning a peer's writes can cause at will: within a budget, the lines held back counted in the next. */
  #warn(data: Record<string, unknown>, message: string): void {
    const suppressed = this.#peerLog.take();
    if (suppressed !== undefined) this.#o.logger.warn(suppressed > 0 ? { ...data, suppressed } : data, message);
  }

  /**
   * A member this node had declared gone is back (a partition healed, a node restarted): it gets what this
   * node wrote meanwhile (take-overs, claims, deletions) straight over the routing link, so within a round
   * trip both registries name the same node for every agent the two sides both ran, and the copy that is not
   * its keeper yields. Gossip alone reaches it only by chance before the next push-pull (seconds to tens of
   * seconds). A link still backing off from the cut refuses: retried at each check, up to
   * CATCH_UP_ATTEMPTS times; after that push-pull repairs it.
   */
  #catchUp(members: FailoverMember[]): void {
    const push = this.#o.pushEntries;
    if (!push || this.#catchUps.size === 0) return;
    const byId = new Map(members.map((m) => [m.id, m]));
    for (const [member, job] of this.#catchUps) {
      if (job.sending) continue;
      const now = byId.get(member);
      // Only a Caxton node with routing links keeps a registry to hand anything to (not a stock Serf agent).
      if (now?.state !== 'alive' || !now.placeable || job.attempts >= CATCH_UP_ATTEMPTS) {
        if (job.attempts >= CATCH_UP_ATTEMPTS) this.#o.logger.warn({ member, attempts: job.attempts }, 'failover: could not hand a returning member what this node wrote meanwhile; push-pull will');
        this.#catchUps.delete(member);
        continue;
      }
      const entries = this.#o.registry.ownUpdatesSince(job.since, CATCH_UP_MAX_ENTRIES);
      if (entries.length === 0) {
        this.#catchUps.delete(member);
        continue;
      }
      job.sending = true;
      job.attempts += 1;
      const chunks: Uint8Array[][] = [];
      for (let i = 0; i < entries.length; i += CATCH_UP_CHUNK) chunks.push(entries.slice(i, i + CATCH_UP_CHUNK));
      const timeoutMs = Math.max(this.#o.settings.checkIntervalMs, 1000);
      void chunks
        .reduce((sent, chunk) => sent.then(() => push(member, chunk, timeoutMs)), Promise.resolve())
        .then(() => {
          if (this.#catchUps.get(member) === job) this.#catchUps.delete(member);
          this.#o.logger.info({ member, entries: entries.length }, 'failover: a member back from gone has what this node wrote meanwhile');
        })
        .catch((error: Error) => this.#o.logger.debug({ member, err: error.message }, 'failover: handing a returning member this node\'s writes failed; retried'))
        .finally(() => {
          job.sending = false;
        });
    }
  }

  /** Asks every unsuspected Caxton member for a round trip; a quorum of answers runs the take-overs. */
  #confirm(members: FailoverMember[]): void {
    if (this.#confirming) return;
    this.#confirming = true;
    const peers = members.filter((m) => m.placeable && m.state === 'alive' && m.id !== this.#o.nodeId).map((m) => m.id);
    const timeoutMs = Math.min(this.#o.settings.checkIntervalMs, 1000);
    void Promise.all(peers.map((p) => this.#o.ping(p, timeoutMs).catch(() => false)))
      .then((answers) => {
        this.#confirming = false;
        const answered = answers.filter(Boolean).length;
        const quorum = this.#o.quorum().quorum;
        if (quorumConfirmed(answered, quorum)) this.check(true);
        else this.#o.logger.warn({ answered: answered + 1, quorum }, 'failover: take-overs held back: fewer members than the quorum answered this node');
      })
      .catch(() => {
        this.#confirming = false;
      });
  }

  #act(action: FailoverAction): void {
    const name = nameOf(action);
    if (this.#busy.has(name)) return;
    if (action.kind === 'take-over') {
      const spec = this.#checkedSpec(action.record, action.from);
      if (spec === undefined) return;
      this.#busy.add(name);
      this.#queue.push({ record: action.record, spec, from: action.from });
      this.#pump();
    } else if (action.kind === 'yield') {
      this.#busy.add(name);
      void this.#yield(name, action.keeper).finally(() => this.#busy.delete(name));
    } else if (action.kind === 'claim') {
      this.#stats.reclaimed += 1;
      this.#warn({ agent: name, registry: action.other }, 'agent runs here and the registry places it on a node declared gone; publishing this node as its owner');
      this.#o.republish(name);
    } else {
      this.#stats.reclaimed += 1;
      this.#warn({ agent: name, registry: action.other }, 'agent runs here and stays here (its keeper); publishing this node as its owner again');
      this.#o.republish(name);
    }
  }

  /** The spec to take the record over with, or undefined when this node refuses it (logged once per write). */
  #checkedSpec(record: AgentRecord, from: string): AgentSpec | undefined {
    const spec = specOf(record);
    const check = this.#o.checkSpec;
    if (!check) return spec;
    const write = this.#o.registry.writeOf(record.name);
    const key = `${record.name} ${write?.lamport ?? 0} ${write?.writer ?? ''}`;
    if (this.#refusedSpecs.has(key)) return undefined;
    try {
      return check(spec);
    } catch (error) {
      if (this.#refusedSpecs.size >= MAX_REFUSED_SPECS) this.#refusedSpecs.clear();
      this.#refusedSpecs.add(key);
      this.#stats.takeOverFailures += 1;
      this.#warn(
        { agent: record.name, from, writer: write?.writer, err: (error as Error).message },
        'failover: not taking over an agent whose registry record this node would not deploy; it stays unplaced',
      );
      return undefined;
    }
  }

  #pump(): void {
    while (this.#running < this.#o.settings.takeOverConcurrency && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.#running += 1;
      void this.#takeOver(next.record, next.spec, next.from).finally(() => {
        this.#running -= 1;
        this.#busy.delete(next.record.name);
        this.#pump();
      });
    }
  }

  async #takeOver(record: AgentRecord, spec: AgentSpec, from: string): Promise<void> {
    if (this.#closed) return;
    try {
      const began = this.#now();
      const module = await this.#moduleFor(record, from);
      const moduleMs = this.#now() - began;
      await this.#o.agents.adopt(spec, module, record.version, record.state === 'stopped');
      this.#stats.takenOver += 1;
      const since = this.#goneSince.get(from);
      const tookMs = since === undefined ? null : this.#now() - since;
      this.#o.logger.info(
        { agent: record.name, from, version: record.version, since_declared_ms: tookMs, module_ms: moduleMs, start_ms: this.#now() - began - moduleMs },
        'failover: agent of a dead node started here',
      );
      this.#o.events.publish('agent.failover', { agent: record.name, from, to: this.#o.nodeId, since_declared_ms: tookMs });
    } catch (error) {
      this.#stats.takeOverFailures += 1;
      this.#warn({ agent: record.name, from, err: (error as Error).message }, 'failover: take-over failed; retried at the next check');
    }
  }

  async #yield(name: string, keeper: string): Promise<void> {
    try {
      const confirm = this.#o.keeperRuns;
      if (confirm) {
        const runs = await confirm(keeper, name, Math.min(this.#o.settings.checkIntervalMs, 1000)).catch(() => false);
        if (this.#closed) return;
        if (!runs) {
          // Stopping the copy here would lose the agent: it stays, and the registry names this node again.
          this.#stats.reclaimed += 1;
          this.#warn({ agent: name, registry: keeper }, 'failover: the registry places an agent running here on a node that does not say it runs it; keeping it here');
          this.#o.republish(name);
          return;
        }
        if (this.#o.registry.get(name)?.node !== keeper) return; // changed meanwhile: the next check decides
      }
      const record = this.#o.registry.get(name);
      this.#o.directory.upsert(name, keeper, record?.capabilities ?? []);
      this.#o.registry.disown(name);
      await this.#o.agents.relinquish(name);
      this.#stats.yielded += 1;
      this.#o.logger.warn({ agent: name, keeper }, 'agent ran on two nodes; its keeper has it and the copy here stopped');
    } catch (error) {
      this.#o.logger.error({ agent: name, keeper, err: error }, 'failover: stopping the duplicate copy failed');
    }
  }

  /** From this node's store, its standby copies, else any live peer (the dead one cannot answer). */
  async #moduleFor(record: AgentRecord, deadNode: string): Promise<Uint8Array> {
    const sha = record.module_sha256;
    const local = this.#o.modules.get(sha) ?? this.#standby.get(sha);
    if (local) return local;
    const peers = this.#o
      .members()
      .filter((m) => m.placeable && m.state === 'alive' && m.id !== this.#o.nodeId && m.id !== deadNode)
      .map((m) => m.id);
    const reasons: string[] = [];
    for (const peer of peers) {
      try {
        return await this.#fetch(peer, sha);
      } catch (error) {
        reasons.push(`${peer}: ${(error as Error).message}`);
      }
    }
    throw new Error(`module ${sha} is on no live node (${reasons.join('; ') || 'no peer alive'})`);
  }

  async #fetch(peer: string, sha: string): Promise<Uint8Array> {
    const bytes = await this.#o.fetchModule(peer, sha, this.#o.settings.moduleFetchTimeoutMs);
    if (!(bytes instanceof Uint8Array) || sha256Hex(bytes) !== sha) throw new Error(`node "${peer}" sent bytes that do not match sha256 ${sha}`);
    return bytes;
  }

  /** Fetches the modules this node would need for a take-over, drops the ones it no longer would. */
  #keepStandby(alive: string[], records: AgentRecord[]): void {
    const limit = this.#o.settings.standbyModuleBytes;
    if (limit === 0) return;
    const wanted = standbyModules(this.#o.nodeId, alive, records);
    for (const [sha, bytes] of this.#standby) {
      if (!wanted.has(sha)) {
        this.#standby.delete(sha);
        this.#standbyBytes -= bytes.byteLength;
      }
    }
    const ownerOf = new Map<string, AgentRecord>();
    // Fetched from a live owner; a module wanted only for a pending take-over is kept if held, never fetched here.
    for (const record of records) {
      if (wanted.has(record.module_sha256) && !ownerOf.has(record.module_sha256) && alive.includes(record.node)) ownerOf.set(record.module_sha256, record);
    }
    for (const sha of wanted) {
      if (this.#standby.has(sha) || this.#fetching.has(sha) || this.#tooLarge.has(sha) || this.#o.modules.has(sha)) continue;
      if (this.#fetching.size >= 2) break;
      const record = ownerOf.get(sha);
      if (record === undefined) continue;
      const owner = record.node;
      this.#fetching.add(sha);
      void this.#fetch(owner, sha)
        .then(async (bytes) => {
          this.#hold(sha, bytes, limit);
          await this.#o.prepareModule?.(sha, bytes, record.limits.memory_pages);
        })
        .catch((error: Error) => this.#o.logger.debug({ sha256: sha, node: owner, err: error.message }, 'failover: standby module fetch failed; retried later'))
        .finally(() => {
          this.#fetching.delete(sha);
          this.schedule();
        });
    }
  }

  #hold(sha: string, bytes: Uint8Array, limit: number): void {
    if (this.#closed) return;
    if (bytes.byteLength > limit) {
      if (this.#tooLarge.size < 1024) this.#tooLarge.add(sha);
      return;
    }
    this.#standby.set(sha, bytes);
    this.#standbyBytes += bytes.byteLength;
    for (const [old, held] of this.#standby) {
      if (this.#standbyBytes <= limit) break;
      this.#standby.delete(old);
      this.#standbyBytes -= held.byteLength;
    }
  }
}

/** Tries to hand a returning member this node's writes (one per check) before leaving it to push-pull. */
const CATCH_UP_ATTEMPTS = 30;
/**
 * Own writes handed to a returning member at most (~1 KB each at worst): a node that wrote more while the
 * other was away (a bulk deploy) leaves the rest to push-pull, which carries the whole registry anyway.
 */
const CATCH_UP_MAX_ENTRIES = 10_000;
/** Entries per failover.entries request: ~1 MB at most, far under routing.max_frame_bytes. */
const CATCH_UP_CHUNK = 1000;
const PEER_LOG_BURST = 100;
const PEER_LOG_PER_SECOND = 10;
/** Refused registry writes remembered (~100 B each); past it the set starts over (each is then logged once more). */
const MAX_REFUSED_SPECS = 10_000;

function nameOf(action: FailoverAction): string {
  return action.kind === 'take-over' ? action.record.name : action.name;
}

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
