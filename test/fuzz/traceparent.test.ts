// The traceparent parser takes text from API clients (a header) and peers (a message field): any string
// gives a span context or undefined, never a throw, and what it accepts formats back to the same prefix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from '../../src/observability/trace-context.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-'), minLength: n, maxLength: n });

describe('fuzz: traceparent', () => {
  it('never throws; an accepted value round-trips', { timeout: fuzzTimeoutMs() }, () => {
    const near = fc.tuple(hex(2), hex(32), hex(16), hex(2)).map((parts) => parts.join('-'));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), near), (text) => {
        const context = parseTraceparent(text);
        if (context !== undefined) expect(text.startsWith(formatTraceparent(context).slice(0, 53))).toBe(true);
      }),
      fuzzParameters(),
    );
  });
});
