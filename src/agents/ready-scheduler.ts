// Which agents run next. An agent with work is queued once; queued agents are run in turns on
// setImmediate, each turn bounded in invocations and time so sockets and timers are served between
// turns, and each agent bounded per visit so one busy agent cannot starve the others.
import type { AgentSlot } from './agent-slot.ts';
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts';

/** Invocations between two reads of the clock in a turn. */
const CLOCK_EVERY = 4;

export interface SchedulerBudget {
  invocationsPerTurn: number;
  turnBudgetMs: number;
}

export class ReadyScheduler {
  private readonly ready: AgentSlot[] = [];
  private head = 0;
  private turnRequested = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param runSlot runs some of an agent's work and returns how many invocations it made
   * @param busyElsewhere work the scheduler does not see (tool calls in flight) that keeps it from idle
   * @param onError a bug in the runtime or a hook while running an agent: reported; other agents still run
   */
  constructor(
    private readonly runSlot: (slot: AgentSlot) => number,
    private readonly busyElsewhere: () => boolean,
    private readonly onError: (err: unknown, slot: AgentSlot) => void,
    private readonly budget: SchedulerBudget = RUNTIME_DEFAULTS,
  ) {}

  schedule(slot: AgentSlot): void {
    if (slot.scheduled) return;
    slot.scheduled = true;
    this.ready.push(slot);
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
    return this.head >= this.ready.length && !this.busyElsewhere();
  }

  private requestTurn(): void {
    if (this.turnRequested) return;
    this.turnRequested = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.turnRequested = false;
    const deadline = performance.now() + this.budget.turnBudgetMs;
    let invocations = 0;
    // Invocations since the clock was last read. It is read once per CLOCK_EVERY of them, not after every
    // visit: most visits of a ping-pong make one invocation, and a clock read each was ~1.5% of a hop. A turn
    // then ends at most CLOCK_EVERY - 1 invocations after its budget ran out.
    let unclocked = 0;
    while (this.head < this.ready.length) {
      const slot = this.ready[this.head++];
      slot.scheduled = false;
      let made = 1;
      try {
        made = this.runSlot(slot);
      } catch (err) {
        this.onError(err, slot);
      }
      invocations += made;
      unclocked += Math.max(1, made);
      if (slot.hasWork()) this.schedule(slot);
      if (invocations >= this.budget.invocationsPerTurn) break;
      if (unclocked >= CLOCK_EVERY) {
        unclocked = 0;
        if (performance.now() > deadline) break;
      }
    }
    // Drop the consumed prefix so the array does not grow without bound.
    this.ready.splice(0, this.head);
    this.head = 0;
    if (this.ready.length > 0) this.requestTurn();
    else this.checkIdle();
  };
}
