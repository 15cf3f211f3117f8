import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchWriter } from '../../src/state/batch-writer.ts';

afterEach(() => vi.useRealTimers());

function writer(overrides: Partial<ConstructorParameters<typeof BatchWriter<number>>[0]> = {}) {
  const batches: number[][] = [];
  const w = new BatchWriter<number>({
    write: (rows) => void batches.push([...rows]),
    transaction: (fn) => fn(),
    flushIntervalMs: 5,
    maxBatch: 3,
    ...overrides,
  });
  return { w, batches };
}

describe('BatchWriter', () => {
  it('groups rows until the interval passes or maxBatch rows wait', () => {
    vi.useFakeTimers();
    const { w, batches } = writer();
    w.push(1);
    w.push(2);
    expect(batches).toEqual([]);
    expect(w.pending()).toEqual([1, 2]);
    vi.advanceTimersByTime(5);
    expect(batches).toEqual([[1, 2]]);
    w.push(3);
    w.push(4);
    w.push(5); // maxBatch: at once
    expect(batches).toEqual([[1, 2], [3, 4, 5]]);
    vi.advanceTimersByTime(100);
    expect(batches).toHaveLength(2); // no empty flush
    expect(w.flush()).toBe(0);
  });

  it('reports a failed timer flush with the number of rows dropped, and keeps working', () => {
    vi.useFakeTimers();
    const errors: Array<[string, number]> = [];
    let fail = true;
    const { w, batches } = writer({
      write: (rows) => {
        if (fail) throw new Error('disk full');
        batches.push([...rows]);
      },
      onError: (error, dropped) => errors.push([(error as Error).message, dropped]),
    });
    w.push(1);
    w.push(2);
    vi.advanceTimersByTime(5);
    expect(errors).toEqual([['disk full', 2]]);
    expect(w.pending()).toEqual([]);
    fail = false;
    w.push(3);
    vi.advanceTimersByTime(5);
    expect(batches).toEqual([[3]]);
  });
});
