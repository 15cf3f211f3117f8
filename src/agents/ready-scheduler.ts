// Which agents run next. An agent with work is queued once; queued agents are run in turns on
// setImmediate, each turn bounded in invocations and time so sockets and timers are served between
// turns, and each agent bounded per visit so one busy agent cannot starve the others.
import type { AgentSlot } from './agent-slot.ts';
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts';

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
    while (this.head < this.ready.length) {
      const slot = this.ready[this.head++];
      slot.scheduled = false;
      try {
        invocations += this.runSlot(slot);
      } catch (err) {
        invocations++;
        this.onError(err, slot);
      }
      if (slot.hasWork()) this.schedule(slot);
      if (invocations >= this.budget.invocationsPerTurn || performance.now() > deadline) break;
    }
    // Drop the consumed prefix so the array does not grow without bound.
    this.ready.splice(0, this.head);
    this.head = 0;
    if (this.ready.length > 0) this.requestTurn();
    else this.checkIdle();
  };
}
