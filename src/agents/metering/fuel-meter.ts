// The host's side of metering, for one instance: sets the fuel budget before each invocation, hands it out a
// slice at a time, says how much of it was used, and tells a fuel, wall-clock or memory trap from any other
// after the fact (fuel-instrument.mjs).
//
// Agents run on the node's main thread, and a synchronous wasm call cannot be interrupted from JavaScript on
// that thread. So the instrumented code gets its budget in slices of FUEL_SLICE: when one runs out it calls
// refill(), which looks at the clock and answers the next slice, or 0 (a trap) once the budget is spent or
// the invocation has run longer than its wall-clock bound. An invocation under one slice (nearly all) never
// calls out, so the bound costs nothing there; past it, one call and one clock read per slice.
import { BUDGET_GLOBAL, FUEL_GLOBAL, MEMORY_LIMIT_GLOBAL, REFUEL_EXPORT, TRAP_GLOBAL, TRAP_MEMORY, USED_EXPORT } from './metering-names.ts';

export type MeteredTrapCause = 'fuel' | 'memory' | 'wall_clock' | null;

/**
 * Fuel per slice: ~0.4–1 ms of agent code (the tightest loop measured burns ~0.35 ns per unit), so the clock
 * is read about once a millisecond in a long invocation and the wall-clock bound holds to about that.
 */
export const FUEL_SLICE = 1 << 20;

export class FuelMeter {
  readonly budget: number;
  private readonly maxInvocationMs: number;
  private readonly firstSlice: number;
  private fuel: WebAssembly.Global | null = null;
  private trap: WebAssembly.Global | null = null;
  private rawRefuel: () => void = () => {};
  private rawUsed: () => number = () => 0;
  /** Budget not yet handed out in this invocation. */
  private remaining: number;
  /** Fuel handed out by refill() in this invocation (the first slice not counted). */
  private granted = 0;
  /** When the first refill of this invocation came: -1 until then. */
  private slicesStartedAt = -1;
  private stopped: 'fuel' | 'wall_clock' | null = null;
  /** The tank was filled by used() after the last invocation, and no code has run since: refuel need not. */
  private full = false;
  /** Host work charged (charge()) since the clock was last read for it. */
  private hostSinceClock = 0;

  /**
   * @param budget fuel per invocation (agent limit `fuel`)
   * @param maxInvocationMs wall-clock bound of one invocation (config agents.max_invocation_ms)
   * @param now the clock (performance.now), injected for tests
   */
  constructor(budget: number, maxInvocationMs: number, private readonly now: () => number = () => performance.now()) {
    this.budget = budget;
    this.maxInvocationMs = maxInvocationMs;
    this.firstSlice = Math.min(budget, FUEL_SLICE);
    // Before the instance exists its start function runs on slices from the whole budget.
    this.remaining = budget;
  }

  /** The `__caxton_meter` import object of an instrumented module. */
  imports(): Record<string, () => number> {
    return { refill: this.refill };
  }

  /** Binds the meter to the instance's exports; false for a module compiled without metering. */
  attach(exports: WebAssembly.Exports, memoryMaxPages: number): boolean {
    if (!(exports[FUEL_GLOBAL] instanceof WebAssembly.Global)) return false;
    this.fuel = exports[FUEL_GLOBAL] as WebAssembly.Global;
    this.trap = exports[TRAP_GLOBAL] as WebAssembly.Global;
    (exports[BUDGET_GLOBAL] as WebAssembly.Global).value = BigInt(this.firstSlice);
    // Wasm functions, not the i64 global, per invocation: no BigInt at the boundary (fuel-instrument.mjs).
    this.rawRefuel = exports[REFUEL_EXPORT] as () => void;
    this.rawUsed = exports[USED_EXPORT] as () => number;
    (exports[MEMORY_LIMIT_GLOBAL] as WebAssembly.Global).value = memoryMaxPages;
    return true;
  }

  /** A full budget for the invocation about to start. */
  readonly refuel = (): void => {
    this.remaining = this.budget - this.firstSlice;
    this.granted = 0;
    this.slicesStartedAt = -1;
    this.stopped = null;
    this.hostSinceClock = 0;
    if (this.full) this.full = false;
    else this.rawRefuel();
  };

  /**
   * Fuel the last invocation used (the whole budget when it ran out). Asked once after an invocation that did not
   * trap, it also fills the tank for the next one (the same wasm call), so that one's refuel costs no call.
   */
  readonly used = (): number => {
    if (this.stopped === 'fuel') return this.budget;
    this.full = true;
    return this.rawUsed() + this.granted;
  };

  /**
   * Charges work the host did for the agent inside a host call (bytes decoded or parsed, log lines made) to the
   * invocation's budget. Host calls are one wasm instruction each, yet one could parse 1 MiB of JSON or split
   * 16 MiB into log lines: uncharged, 0.15 of a budget held the thread for 111 s. Past the budget, or past the
   * wall-clock bound (read once per FUEL_SLICE of host work, as refill reads it per slice), it traps: a
   * WebAssembly.RuntimeError, which cause() then names.
   */
  readonly charge = (units: number): void => {
    // From the budget not yet handed out first; the rest from the slice the code runs on (the whole budget, when
    // it is one slice or less), so that host work spends the same budget the agent's own instructions do.
    const fromRemaining = Math.min(units, Math.max(this.remaining, 0));
    this.remaining -= fromRemaining;
    this.granted += fromRemaining;
    const rest = units - fromRemaining;
    if (rest > 0) {
      if (this.fuel === null) this.stopped = 'fuel';
      else {
        const left = (this.fuel.value as bigint) - BigInt(rest);
        this.fuel.value = left;
        if (left < 0n) this.stopped = 'fuel';
      }
    }
    if (this.stopped === null && (this.hostSinceClock += units) >= FUEL_SLICE) {
      this.hostSinceClock = 0;
      const now = this.now();
      if (this.slicesStartedAt < 0) this.slicesStartedAt = now;
      else if (now - this.slicesStartedAt > this.maxInvocationMs) this.stopped = 'wall_clock';
    }
    if (this.stopped !== null) throw new WebAssembly.RuntimeError(`host work stopped by the meter (${this.stopped})`);
  };

  /** Called by the instrumented code when a slice ran out: the next slice, or 0 to trap. */
  private readonly refill = (): number => {
    if (this.remaining <= 0) {
      this.stopped = 'fuel';
      return 0;
    }
    const now = this.now();
    if (this.slicesStartedAt < 0) this.slicesStartedAt = now;
    else if (now - this.slicesStartedAt > this.maxInvocationMs) {
      this.stopped = 'wall_clock';
      return 0;
    }
    const slice = Math.min(FUEL_SLICE, this.remaining);
    this.remaining -= slice;
    this.granted += slice;
    return slice;
  };

  /** Why the instance trapped, when it was Caxton's metering that stopped it. */
  cause(): MeteredTrapCause {
    if (this.trap !== null && (this.trap.value as number) === TRAP_MEMORY) return 'memory';
    if (this.stopped !== null) return this.stopped;
    if (this.fuel !== null && (this.fuel.value as bigint) < 0n) return 'fuel';
    return null;
  }
}
