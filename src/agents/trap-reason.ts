// Why an invocation trapped, as a short stable code for stats, logs and metrics labels.
import { InstantiateError } from './agent-instance.ts';
import { ProcExitError } from './wasi-shim.ts';
import { describeError } from '../errors.ts';

export type TrapReason =
  | 'unreachable'
  | 'out_of_bounds_memory'
  | 'out_of_bounds_table'
  | 'indirect_call_mismatch'
  | 'divide_by_zero'
  | 'integer_overflow'
  | 'invalid_conversion'
  | 'stack_overflow'
  | 'proc_exit'
  | 'init_failed'
  | 'runtime_error'
  | 'host_error'
  /** The invocation used up its fuel budget (agent limit `fuel`): FUEL_EXHAUSTED. */
  | 'fuel_exhausted'
  /** memory.grow past the agent's memory limit: MEMORY_EXHAUSTED. */
  | 'memory_exhausted'
  /** The invocation ran longer than agents.max_invocation_ms, fuel left or not: WALL_CLOCK_EXCEEDED. */
  | 'wall_clock_exceeded';

export interface TrapInfo {
  reason: TrapReason;
  /** The engine's message, for the agent log and `last_error`. */
  detail: string;
}

// V8's RuntimeError messages (src/common/message-template.h, kWasmTrap*).
const RUNTIME_PATTERNS: [RegExp, TrapReason][] = [
  [/^unreachable/, 'unreachable'],
  [/memory access out of bounds|data segment|out of bounds memory/i, 'out_of_bounds_memory'],
  [/table index is out of bounds|table access out of bounds|element segment/i, 'out_of_bounds_table'],
  [/signature mismatch|null function|call_indirect/i, 'indirect_call_mismatch'],
  [/divide by zero|remainder by zero/i, 'divide_by_zero'],
  [/integer overflow/i, 'integer_overflow'],
  [/float unrepresentable|invalid conversion/i, 'invalid_conversion'],
];

/** The `reason` label of caxton_agent_traps_total: fuel, memory, or trap for everything else. */
export function trapMetricLabel(reason: TrapReason): 'fuel' | 'memory' | 'wall_clock' | 'trap' {
  return reason === 'fuel_exhausted' ? 'fuel' : reason === 'memory_exhausted' ? 'memory' : reason === 'wall_clock_exceeded' ? 'wall_clock' : 'trap';
}

/**
 * @param cause what the instance's fuel meter says stopped it (metering/fuel-meter.ts): its own globals tell
 *   a fuel or memory trap from an `unreachable` the agent wrote.
 */
export function classifyTrap(error: unknown, cause: 'fuel' | 'memory' | 'wall_clock' | null = null): TrapInfo {
  if (error instanceof InstantiateError) return classifyTrap(error.error, cause ?? error.meterCause);
  if (cause === 'wall_clock' && error instanceof WebAssembly.RuntimeError) {
    return {
      reason: 'wall_clock_exceeded',
      detail: 'WALL_CLOCK_EXCEEDED: the invocation ran longer than this node allows (agents.max_invocation_ms)',
    };
  }
  if (cause === 'fuel' && error instanceof WebAssembly.RuntimeError) {
    return { reason: 'fuel_exhausted', detail: 'FUEL_EXHAUSTED: the invocation used up its fuel budget (agent limit fuel)' };
  }
  if (cause === 'memory' && error instanceof WebAssembly.RuntimeError) {
    return { reason: 'memory_exhausted', detail: 'MEMORY_EXHAUSTED: memory.grow past the agent memory limit (limits.memory_pages)' };
  }
  if (error instanceof ProcExitError) return { reason: 'proc_exit', detail: error.message };
  if (error instanceof WebAssembly.RuntimeError) {
    for (const [pattern, reason] of RUNTIME_PATTERNS) if (pattern.test(error.message)) return { reason, detail: error.message };
    return { reason: 'runtime_error', detail: error.message };
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return { reason: 'stack_overflow', detail: error.message };
  return { reason: 'host_error', detail: describeError(error) };
}
