import { describe, expect, it } from 'vitest';
import { RecentSet } from '../../src/messaging/recent-set.ts';

describe('RecentSet', () => {
  it('keeps the most recent `max` keys, forgetting the oldest added first', () => {
    const set = new RecentSet(3);
    for (const key of ['a', 'b', 'c']) set.add(key);
    expect(set.size).toBe(3);
    set.add('b'); // already a member: neither moved nor counted twice
    set.add('d');
    expect(['a', 'b', 'c', 'd'].filter((k) => set.has(k))).toEqual(['b', 'c', 'd']);
    set.add('e');
    set.add('f');
    expect(['b', 'c', 'd', 'e', 'f'].filter((k) => set.has(k))).toEqual(['d', 'e', 'f']);
    expect(set.size).toBe(3);
  });

  it('stays bounded over many more keys than its bound', () => {
    const set = new RecentSet(1000);
    for (let i = 0; i < 50_000; i++) set.add(`k${i}`);
    expect(set.size).toBe(1000);
    expect(set.has('k48999')).toBe(false);
    expect(set.has('k49000')).toBe(true);
    expect(set.has('k49999')).toBe(true);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new RecentSet(0)).toThrow(RangeError);
    expect(() => new RecentSet(1.5)).toThrow(RangeError);
  });
});
