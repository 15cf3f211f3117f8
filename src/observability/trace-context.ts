// W3C Trace Context (https://www.w3.org/TR/trace-context/) as carried by a message's `trace_context` and an
// API client's `traceparent` header: `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`.
// Parsed by hand (no regex engine, no propagator carrier objects): it runs once per traced message.
import { randomFillSync } from 'node:crypto';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** The span context a `traceparent` names, or undefined when it is not a valid one (then it is ignored). */
export function parseTraceparent(traceparent: string): SpanContext | undefined {
  // Version 00 is exactly 55 characters; a later version may append fields after a dash, which we ignore.
  if (traceparent.length < 55 || traceparent.length > 256) return undefined;
  if (traceparent.charCodeAt(2) !== 0x2d || traceparent.charCodeAt(35) !== 0x2d || traceparent.charCodeAt(52) !== 0x2d) return undefined;
  const version = traceparent.slice(0, 2);
  if (version === 'ff' || !HEX.test(version)) return undefined;
  if (version === '00' && traceparent.length !== 55) return undefined;
  if (traceparent.length > 55 && traceparent.charCodeAt(55) !== 0x2d) return undefined;
  const traceId = traceparent.slice(3, 35);
  const spanId = traceparent.slice(36, 52);
  const flags = traceparent.slice(53, 55);
  if (!HEX.test(traceId) || !isSpanId(spanId) || !HEX.test(flags) || traceId === ZERO_TRACE) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** A valid span id: 16 lowercase hex digits, not all zero. */
export function isSpanId(id: string): boolean {
  return id.length === 16 && HEX.test(id) && id !== ZERO_SPAN;
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

/** A new trace that is not recorded: `00-<random trace id>-<random span id>-00`, carried so the whole path agrees. */
export function unsampledTraceparent(): string {
  const at = drawRandom(24);
  return `00-${POOL.toString('hex', at, at + 16)}-${POOL.toString('hex', at + 16, at + 24)}-00`;
}

/** A random span id: 16 hex digits, never all zero (W3C: invalid). */
export function randomSpanId(): string {
  for (;;) {
    const at = drawRandom(8);
    const id = POOL.toString('hex', at, at + 8);
    if (id !== ZERO_SPAN) return id;
  }
}
