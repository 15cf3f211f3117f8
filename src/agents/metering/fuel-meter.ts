// The host's side of metering, for one instance: sets the fuel budget before each invocation, says how much
// of it was used, and tells a fuel or memory trap from any other after the fact (fuel-instrument.mjs).
import { BUDGET_GLOBAL, FUEL_GLOBAL, MEMORY_LIMIT_GLOBAL, REFUEL_EXPORT, TRAP_GLOBAL, TRAP_MEMORY, USED_EXPORT } from './metering-names.ts';

export type MeteredTrapCause = 'fuel' | 'memory' | null;

export class FuelMeter {
  private readonly fuel: WebAssembly.Global;
  private readonly trap: WebAssembly.Global;
  // Wasm functions, not the i64 global, per invocation: no BigInt at the boundary (fuel-instrument.mjs).
  /** A full budget for the invocation about to start. */
  readonly refuel: () => void;
  /** Fuel the last invocation used (the whole budget when it ran out). */
  readonly used: () => number;
  readonly budget: number;

  private constructor(exports: WebAssembly.Exports, budget: number, memoryMaxPages: number) {
    this.fuel = exports[FUEL_GLOBAL] as WebAssembly.Global;
    this.trap = exports[TRAP_GLOBAL] as WebAssembly.Global;
    this.budget = budget;
    (exports[BUDGET_GLOBAL] as WebAssembly.Global).value = BigInt(budget);
    this.refuel = exports[REFUEL_EXPORT] as () => void;
    this.used = exports[USED_EXPORT] as () => number;
    (exports[MEMORY_LIMIT_GLOBAL] as WebAssembly.Global).value = memoryMaxPages;
  }

  /** The meter of an instrumented instance; null for a module compiled without metering (tests, benchmarks). */
  static attach(exports: WebAssembly.Exports, budget: number, memoryMaxPages: number): FuelMeter | null {
    if (!(exports[FUEL_GLOBAL] instanceof WebAssembly.Global)) return null;
    return new FuelMeter(exports, budget, memoryMaxPages);
  }

  /** Why the instance trapped, when it was Caxton's metering that stopped it. */
  cause(): MeteredTrapCause {
    if ((this.trap.value as number) === TRAP_MEMORY) return 'memory';
    if ((this.fuel.value as bigint) < 0n) return 'fuel';
    return null;
  }
}
