// Which agents run next. An agent with work is queued once; queued agents are run in turns on
// setImmediate, each turn bounded in invocations and time so sockets and timers are served between
// turns, and each agent bounded per visit so one busy agent cannot starve the others.
//
// Agents whose last visit was heavy (it cost more than HEAVY_VISIT_COST: a spinner, a flood, a burst of
// traps) wait in a queue of their own. The light queue is served in rounds, and between two rounds one heavy
// agent gets one visit. A light agent (an echo) waits for at most the light agents ahead of it and one heavy
// visit, whatever the number of heavy agents; in one queue it waited behind a visit of each of them (the
// soak's five hostile agents, ~5 ms each). A heavy agent still gets a visit after every light round.
import type { AgentSlot } from './agent-slot.ts';
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts';

/** Invocations between two reads of the clock in a turn. */
const CLOCK_EVERY = 4;

/**
 * A visit costing more than this (invocations, plus sends beyond one each, plus fuel slices: what runSlot
 * returns) makes the agent heavy until a visit of it costs no more. A message or two handled in under a fuel
 * slice each is light; a visit cut off by its bounds (itemsPerAgentVisit 32, sendsPerAgentVisit, 8 fuel
 * slices) is heavy.
 */
export const HEAVY_VISIT_COST = 4;

/** What the scheduler needs of an agent (AgentSlot in the runtime). */
export interface SchedulableSlot {
  /** In a ready queue: keeps an agent from being queued twice. */
  scheduled: boolean;
  /** Its last visit cost more than HEAVY_VISIT_COST: it waits in the heavy queue. */
  heavy: boolean;
  hasWork(): boolean;
}

export interface SchedulerBudget {
  invocationsPerTurn: number;
  turnBudgetMs: number;
}

/** A FIFO of slots: an array read from `head`, its consumed prefix dropped at the end of each turn. */
class SlotQueue<S> {
  items: S[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  compact(): void {
    this.items.splice(0, this.head);
    this.head = 0;
  }
}

export class ReadyScheduler<S extends SchedulableSlot = AgentSlot> {
  private readonly light = new SlotQueue<S>();
  private readonly heavy = new SlotQueue<S>();
  /** Light slots left in the current round. */
  private lightRoundLeft = 0;
  /** The last visit was a heavy slot's: the next light round may start. */
  private heavyVisited = false;
  private turnRequested = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param runSlot runs some of an agent's work and returns its cost (invocations, and sends and fuel beyond)
   * @param busyElsewhere work the scheduler does not see (tool calls in flight) that keeps it from idle
   * @param onError a bug in the runtime or a hook while running an agent: reported; other agents still run
   */
  constructor(
    private readonly runSlot: (slot: S) => number,
    private readonly busyElsewhere: () => boolean,
    private readonly onError: (err: unknown, slot: S) => void,
    private readonly budget: SchedulerBudget = RUNTIME_DEFAULTS,
  ) {}

  schedule(slot: S): void {
    if (slot.scheduled) return;
    slot.scheduled = true;
    (slot.heavy ? this.heavy : this.light).items.push(slot);
    this.requestTurn();
  }

  /** Resolves once nothing is queued and nothing is busy elsewhere. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Wakes idle waiters if the runtime became idle outside a turn (a tool call settled). */
  checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private isIdle(): boolean {
    return this.light.length === 0 && this.heavy.length === 0 && !this.busyElsewhere();
  }

  private requestTurn(): void {
    if (this.turnRequested) return;
    this.turnRequested = true;
    setImmediate(this.turn);
  }

  /** The rest of the light round; else one heavy visit; else a new light round of what is queued now. */
  private next(): S | undefined {
    if (this.lightRoundLeft > 0) {
      this.lightRoundLeft--;
      return this.light.items[this.light.head++];
    }
    if ((this.heavyVisited || this.heavy.length === 0) && this.light.length > 0) {
      this.heavyVisited = false;
      this.lightRoundLeft = this.light.length - 1;
      return this.light.items[this.light.head++];
    }
    if (this.heavy.length > 0) {
      this.heavyVisited = true;
      return this.heavy.items[this.heavy.head++];
    }
    return undefined;
  }

  private readonly turn = (): void => {
    this.turnRequested = false;
    const deadline = performance.now() + this.budget.turnBudgetMs;
    let invocations = 0;
    // Invocations since the clock was last read. It is read once per CLOCK_EVERY of them, not after every
    // visit: most visits of a ping-pong make one invocation, and a clock read each was ~1.5% of a hop. A turn
    // then ends at most CLOCK_EVERY - 1 invocations after its budget ran out.
    let unclocked = 0;
    for (let slot = this.next(); slot !== undefined; slot = this.next()) {
      slot.scheduled = false;
      let made = 1;
      try {
        made = this.runSlot(slot);
      } catch (err) {
        this.onError(err, slot);
      }
      slot.heavy = made > HEAVY_VISIT_COST;
      invocations += made;
      unclocked += Math.max(1, made);
      if (slot.hasWork()) this.schedule(slot);
      if (invocations >= this.budget.invocationsPerTurn) break;
      if (unclocked >= CLOCK_EVERY) {
        unclocked = 0;
        if (performance.now() > deadline) break;
      }
    }
    this.light.compact();
    this.heavy.compact();
    if (this.light.length > 0 || this.heavy.length > 0) this.requestTurn();
    else this.checkIdle();
  };
}
