// The W3C traceparent a message or an API client carries: valid ones become span contexts, anything else is
// ignored (a new trace starts), never thrown.
import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from '../../src/observability/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('parses the W3C example and formats it back', () => {
    const context = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(context).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(formatTraceparent(context!)).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(0);
  });

  it('accepts a later version with extra fields, as the spec asks', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`)?.traceId).toBe(TRACE);
  });

  it.each([
    ['empty', ''],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version 00 with extra fields', `00-${TRACE}-${SPAN}-01-x`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01x`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
    ['not hex', `00-${'z'.repeat(32)}-${SPAN}-01`],
    ['too long', `01-${TRACE}-${SPAN}-01-${'a'.repeat(300)}`],
  ])('ignores %s', (_what, text) => {
    expect(parseTraceparent(text)).toBeUndefined();
  });
});
