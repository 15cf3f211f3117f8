// Replacements for AssemblyScript's `env.abort`, `env.trace` and `env.seed` imports, which the agent ABI does
// not allow. The build selects them with `--use abort=caxtonAbort --use trace=caxtonTrace --use seed=caxtonSeed`
// (see asconfig.json); `@global` makes those names resolve wherever the SDK lives.
import { log as hostLog, random_fill } from "./host";
import { formatNumber } from "./json/number-format";

const LEVEL_DEBUG: i32 = 1;
const LEVEL_ERROR: i32 = 4;

function logText(level: i32, text: string): void {
  const bytes = String.UTF8.encode(text);
  hostLog(level, changetype<usize>(bytes), bytes.byteLength);
}

/** A failed assertion or runtime error: say where through the agent log, then trap (the host restarts the instance). */
// @ts-ignore: decorator
@global export function caxtonAbort(
  message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0,
): void {
  let text = "abort: " + (message != null ? message : "(no message)");
  if (fileName != null && line > 0) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  logText(LEVEL_ERROR, text);
  unreachable();
}

/** `trace(...)` goes to the agent log at debug level. */
// @ts-ignore: decorator
@global export function caxtonTrace(
  message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0,
): void {
  let text = message;
  if (n > 0) text += " " + formatNumber(a0);
  if (n > 1) text += ", " + formatNumber(a1);
  if (n > 2) text += ", " + formatNumber(a2);
  if (n > 3) text += ", " + formatNumber(a3);
  if (n > 4) text += ", " + formatNumber(a4);
  logText(LEVEL_DEBUG, text);
}

/** Seed of Math.random: 52 random bits from the host, as a double in [1, 2). */
// @ts-ignore: decorator
@global export function caxtonSeed(): f64 {
  const cell = heap.alloc(8);
  random_fill(cell, 8);
  const bits = load<u64>(cell);
  heap.free(cell);
  return reinterpret<f64>((bits >> 12) | 0x3FF0000000000000);
}
