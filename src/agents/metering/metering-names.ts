// The names the instrumentation adds to a module (see fuel-instrument.mjs, which holds the same values:
// it runs in a thread without TypeScript). Reserved: a module exporting one of them is refused.
export const FUEL_GLOBAL = '__caxton_fuel';
export const TRAP_GLOBAL = '__caxton_trap';
export const MEMORY_LIMIT_GLOBAL = '__caxton_memory_limit';
export const BUDGET_GLOBAL = '__caxton_budget';
export const REFUEL_EXPORT = '__caxton_refuel';
export const USED_EXPORT = '__caxton_used_refill';
/** Value of TRAP_GLOBAL after memory.grow went past the limit. */
export const TRAP_MEMORY = 2;
/** The import module and function through which instrumented code asks the host for its next fuel slice. */
export const METER_MODULE = '__caxton_meter';
export const REFILL_IMPORT = 'refill';
