// Why an invocation trapped, as a short stable code for stats, logs and metrics labels.
import { ProcExitError } from './wasi-shim.ts';

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
  | 'host_error';

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

export function classifyTrap(error: unknown): TrapInfo {
  if (error instanceof ProcExitError) return { reason: 'proc_exit', detail: error.message };
  if (error instanceof WebAssembly.RuntimeError) {
    for (const [pattern, reason] of RUNTIME_PATTERNS) if (pattern.test(error.message)) return { reason, detail: error.message };
    return { reason: 'runtime_error', detail: error.message };
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return { reason: 'stack_overflow', detail: error.message };
  return { reason: 'host_error', detail: error instanceof Error ? error.message : String(error) };
}
