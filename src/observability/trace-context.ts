// W3C Trace Context (https://www.w3.org/TR/trace-context/) as carried by a message's `trace_context` and an
// API client's `traceparent` header: `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`.
// Which text is a traceparent is decided by ../messaging/traceparent.ts, for messages and headers alike; here it
// is read by position (no propagator carrier objects): it runs once per traced message.
import { randomFillSync } from 'node:crypto';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { isTraceparent } from '../messaging/traceparent.ts';

export { isSpanId } from '../messaging/traceparent.ts';

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0000000000000000';

/** The span context a `traceparent` names, or undefined when it is not a valid one (then it is ignored). */
export function parseTraceparent(traceparent: string): SpanContext | undefined {
  if (!isTraceparent(traceparent)) return undefined;
  // The fields a later version appends after the flags are not ours to read.
  const flags = Number.parseInt(traceparent.slice(53, 55), 16);
  return { traceId: traceparent.slice(3, 35), spanId: traceparent.slice(36, 52), traceFlags: flags & TraceFlags.SAMPLED, isRemote: true };
}

/** The `traceparent` that makes `context` the parent of whatever carries it. */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & TraceFlags.SAMPLED) === 0 ? '00' : '01'}`;
}

/** Whether a `traceparent` has the sampled flag, read from its last hex digit without parsing the rest. */
export function looksSampled(traceparent: string): boolean {
  if (traceparent.length < 55) return false;
  const c = traceparent.charCodeAt(54);
  const digit = c <= 0x39 ? c - 0x30 : c - 0x57;
  return (digit & 1) === 1;
}

// Random ids for traces that are not recorded: drawn from a pooled buffer (one randomFillSync per 170 ids),
// as an unrecorded trace is what almost every message carries at a low sampling ratio.
const POOL = Buffer.allocUnsafe(24 * 170);
let poolOffset = POOL.length;

/** Where the next `bytes` random bytes start in POOL (refilled when they would not fit). */
function drawRandom(bytes: number): number {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += bytes;
  return at;
}

/**
 * A new trace that is not recorded: `00-<random trace id>-<random span id>-00`, carried so the whole path agrees.
 * Neither id all zero (W3C: invalid; a peer refuses such a message's trace_context).
 */
export function unsampledTraceparent(): string {
  for (;;) {
    const at = drawRandom(24);
    const traceId = POOL.toString('hex', at, at + 16);
    const spanId = POOL.toString('hex', at + 16, at + 24);
    if (traceId !== ZERO_TRACE && spanId !== ZERO_SPAN) return `00-${traceId}-${spanId}-00`;
  }
}

/** A random span id: 16 hex digits, never all zero (W3C: invalid). */
export function randomSpanId(): string {
  for (;;) {
    const at = drawRandom(8);
    const id = POOL.toString('hex', at, at + 8);
    if (id !== ZERO_SPAN) return id;
  }
}
