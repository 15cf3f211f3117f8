// Failover on a real node: runs the pure plan (src/cluster/placement/failover-plan.ts) whenever the
// membership or the registry changes, and every failover.check_interval_ms as a safety net, and carries out
// what it says: take over the agents of dead nodes this node now owns (from their registry records, with
// the module from this node's store, its standby copies, or any live peer), stop a duplicate copy that its
// keeper runs, claim again an agent the registry wrongly places elsewhere. It also keeps, in memory and
// bounded, the modules of agents it would take over, fetched while their owner is alive. This file holds the
// pass, the quorum round that take-overs wait for, and the claims; each other part is a file of its own:
//   failover-context.ts    the options, the counters and what the parts share
//   failover-deletions.ts  agents deleted in the cluster while this node was away, confirmed with their writer
//   failover-take-over.ts  adopting the agents of a dead node, with the spec this node would deploy
//   failover-modules.ts    the modules a take-over needs, and the standby copies kept ahead
//   failover-yield.ts      stopping a duplicate copy once its keeper says it runs the agent
//   failover-catch-up.ts   handing a member back from gone what this node wrote meanwhile
import { needsConfirmation, planFailover, quorumConfirmed, takeOverMode, type FailoverAction } from '../cluster/placement/failover-plan.ts';
import { isLive } from '../cluster/membership/messages.ts';
import { LogBudget } from '../cluster/log-budget.ts';
import { CatchUps } from './failover-catch-up.ts';
import type { FailoverContext, FailoverMember, FailoverOptions, FailoverStats } from './failover-context.ts';
import { MissedDeletions } from './failover-deletions.ts';
import { TakeOverModules } from './failover-modules.ts';
import { TakeOvers } from './failover-take-over.ts';
import { yieldToKeeper } from './failover-yield.ts';

export type { FailoverMember, FailoverOptions, FailoverSettings, FailoverStats } from './failover-context.ts';
export { specOf } from './failover-take-over.ts';

export class Failover {
  readonly #o: FailoverOptions;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  /** Names being taken over, yielded or reclaimed now: one action per name at a time. */
  readonly #busy = new Set<string>();
  #scheduled = false;
  /** A confirmation round is out: take-overs wait for its answer. */
  #confirming = false;
  #closed = false;
  readonly #stats: FailoverStats = { takenOver: 0, yielded: 0, reclaimed: 0, takeOverFailures: 0, standbyModules: 0, standbyBytes: 0 };
  /** Warnings peers' registry writes can cause at will (a forged write each): 100 at once, then 10 a second. */
  readonly #peerLog: LogBudget;
  /**
   * The line of a quorum round that came back short: a budget of its own, for every registry write starts a
   * round on a side whose pings go unanswered (one line each, before), and the same state said again and
   * again must not take the peer warnings' budget, nor be crowded out by them.
   */
  readonly #heldBackLog: LogBudget;
  readonly #context: FailoverContext;
  readonly #deletions: MissedDeletions;
  readonly #modules: TakeOverModules;
  readonly #takeOvers: TakeOvers;
  readonly #catchUps: CatchUps;

  constructor(options: FailoverOptions) {
    this.#o = options;
    const now = options.now ?? Date.now;
    this.#peerLog = new LogBudget(PEER_LOG_BURST, PEER_LOG_PER_SECOND, now);
    this.#heldBackLog = new LogBudget(HELD_BACK_LOG_BURST, HELD_BACK_LOG_PER_SECOND, now);
    this.#context = {
      options,
      now,
      busy: this.#busy,
      stats: this.#stats,
      warn: (data, message) => this.#warn(data, message),
      closed: () => this.#closed,
    };
    this.#deletions = new MissedDeletions(this.#context);
    this.#modules = new TakeOverModules(this.#context, () => this.schedule());
    this.#takeOvers = new TakeOvers(this.#context, (record, deadNode) => this.#modules.moduleFor(record, deadNode));
    this.#catchUps = new CatchUps(this.#context);
    this.#timer = setInterval(() => this.check(), options.settings.checkIntervalMs);
    this.#timer.unref();
    const offRegistry = options.registry.onChange((name, current) => {
      if (current === undefined) this.#deletions.noted(name);
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
    return { ...this.#stats, standbyModules: this.#modules.count, standbyBytes: this.#modules.bytes };
  }

  /** A membership change: noted (for the take-over time and a returning member's catch-up) and checked at once. */
  memberChanged(id: string, state: string): void {
    this.#catchUps.memberChanged(id, state);
    this.#takeOvers.memberChanged(id, state);
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
    this.#takeOvers.close();
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
      this.#deletions.settle();
      // A member the membership has forgotten (reaped long after its death) takes its marks with it.
      const known = (id: string): boolean => states.has(id);
      this.#catchUps.forgetAbsent(known);
      this.#takeOvers.forgetAbsent(known);
      this.#catchUps.run(members);
      this.#modules.keep(alive, records);
    } catch (error) {
      this.#o.logger.error({ err: error }, 'failover check failed; retrying at the next one');
    }
  }

  /** A warning a peer's writes can cause at will: within a budget, the lines held back counted in the next. */
  #warn(data: Record<string, unknown>, message: string): void {
    const suppressed = this.#peerLog.take();
    if (suppressed !== undefined) this.#o.logger.warn(suppressed > 0 ? { ...data, suppressed } : data, message);
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
        if (quorumConfirmed(answered, quorum)) {
          this.check(true);
          return;
        }
        const suppressed = this.#heldBackLog.take();
        if (suppressed === undefined) return;
        const data = { answered: answered + 1, quorum, ...(suppressed > 0 ? { suppressed } : {}) };
        this.#o.logger.warn(data, 'failover: take-overs held back: fewer members than the quorum answered this node');
      })
      .catch(() => {
        this.#confirming = false;
      });
  }

  #act(action: FailoverAction): void {
    const name = nameOf(action);
    if (this.#busy.has(name)) return;
    if (action.kind === 'take-over') {
      this.#takeOvers.start(action.record, action.from);
    } else if (action.kind === 'yield') {
      this.#busy.add(name);
      void yieldToKeeper(this.#context, name, action.keeper).finally(() => this.#busy.delete(name));
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
}

const PEER_LOG_BURST = 100;
const PEER_LOG_PER_SECOND = 10;
/** A short quorum round: 3 lines at once, then one every 10 s, the rounds between counted in the next line. */
const HELD_BACK_LOG_BURST = 3;
const HELD_BACK_LOG_PER_SECOND = 0.1;

function nameOf(action: FailoverAction): string {
  return action.kind === 'take-over' ? action.record.name : action.name;
}
