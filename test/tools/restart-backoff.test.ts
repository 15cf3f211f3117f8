import { describe, expect, it } from 'vitest';
import { restartDelayMs } from '../../src/tools/restart-backoff.ts';

describe('restartDelayMs', () => {
  it('doubles per consecutive failure from the initial wait, up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => restartDelayMs(n, 250, 2_000))).toEqual([0, 250, 500, 1_000, 2_000, 2_000]);
  });

  it('stays at the cap for any number of failures, never overflowing', () => {
    expect(restartDelayMs(10_000, 250, 30_000)).toBe(30_000);
    expect(restartDelayMs(Number.MAX_SAFE_INTEGER, 250, 30_000)).toBe(30_000);
  });

  it('a cap below the initial wait means the initial wait', () => {
    expect(restartDelayMs(3, 500, 100)).toBe(500);
  });
});
