// The send route reads its common query (`wait_ms=<digits>` or none) without zod: it must accept exactly
// what zod accepts, with the same value, and leave everything else to zod.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainWaitMs, sendQueryOf } from '../../src/api/routes/messages.ts';
import { fuzzParameters } from '../fuzz/fuzz-runs.ts';

const MAX = 60_000;
const zodQuery = sendQueryOf(MAX);

function viaZod(query: Record<string, unknown>): { ok: true; waitMs: number | undefined } | { ok: false } {
  const result = zodQuery.safeParse(query);
  return result.success ? { ok: true, waitMs: result.data.wait_ms } : { ok: false };
}

describe('plainWaitMs (the send query without zod)', () => {
  it('reads the common queries', () => {
    expect(plainWaitMs({}, MAX)).toBe(-1);
    expect(plainWaitMs({ wait_ms: '1000' }, MAX)).toBe(1000);
    expect(plainWaitMs({ wait_ms: '0' }, MAX)).toBe(0);
    expect(plainWaitMs({ wait_ms: '60000' }, MAX)).toBe(60_000);
  });

  it.each([[{ wait_ms: '60001' }], [{ wait_ms: '' }], [{ wait_ms: '-1' }], [{ wait_ms: '1e3' }], [{ wait_ms: ' 1' }], [{ wait_ms: ['1', '2'] }], [{ wait_ms: '1', stream: 'true' }], [{ other: '1' }]])(
    'leaves %j to zod',
    (query) => {
      expect(plainWaitMs(query, MAX)).toBeUndefined();
    },
  );

  it('whenever it reads a query, zod reads the same value', () => {
    const value = fc.oneof(fc.stringMatching(/^[0-9]{0,12}$/), fc.string({ maxLength: 8 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }));
    const query = fc.dictionary(fc.constantFrom('wait_ms', 'stream', 'x'), value, { maxKeys: 2 });
    fc.assert(
      fc.property(query, (q) => {
        const plain = plainWaitMs(q, MAX);
        if (plain === undefined) return;
        expect(viaZod(q)).toEqual({ ok: true, waitMs: plain === -1 ? undefined : plain });
      }),
      fuzzParameters(),
    );
  });
});
