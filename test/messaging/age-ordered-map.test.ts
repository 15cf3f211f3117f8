import { describe, expect, it } from 'vitest';
import { AgeOrderedMap } from '../../src/messaging/age-ordered-map.ts';

const keysOf = <K, V>(map: AgeOrderedMap<K, V>): K[] => [...map.keys()];

describe('AgeOrderedMap', () => {
  it('keeps entries oldest first; set moves an entry to the young end, replace keeps its age', () => {
    const map = new AgeOrderedMap<string, number>();
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i);
    map.set('b', 10);
    expect(keysOf(map)).toEqual(['a', 'c', 'd', 'b']);
    expect(map.replace('c', 20)).toBe(true);
    expect(map.replace('zz', 1)).toBe(false);
    expect([...map]).toEqual([['a', 0], ['c', 20], ['d', 3], ['b', 10]]);
    expect(map.get('c')).toBe(20);
    expect(map.has('zz')).toBe(false);
  });

  it('shift removes the oldest, whatever was deleted in between', () => {
    const map = new AgeOrderedMap<string, number>();
    for (let i = 0; i < 6; i++) map.set(`k${i}`, i);
    expect(map.delete('k0')).toBe(true);
    expect(map.delete('k0')).toBe(false);
    map.delete('k2');
    expect(map.oldestKey()).toBe('k1');
    expect(map.shift()).toBe('k1');
    expect(map.shift()).toBe('k3');
    expect(keysOf(map)).toEqual(['k4', 'k5']);
    expect(map.size).toBe(2);
    map.shift();
    map.shift();
    expect(map.shift()).toBeUndefined();
    expect(map.oldestKey()).toBeUndefined();
    map.set('again', 1);
    expect(keysOf(map)).toEqual(['again']);
  });

  it('trimmed at a bound, keeps the most recent `max` entries over many more inserts and deletes', () => {
    const max = 1000;
    const map = new AgeOrderedMap<string, number>();
    for (let i = 0; i < 50_000; i++) {
      map.set(`k${i}`, i);
      // Deletes of young entries (the holes a plain Map would walk) do not change which entry is oldest.
      if (i % 3 === 0) map.delete(`k${i - 1}`);
      while (map.size > max) map.shift();
    }
    expect(map.size).toBe(max);
    const kept = keysOf(map);
    expect(kept.at(-1)).toBe('k49999');
    const order = kept.map((k) => Number(k.slice(1)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(map.oldestKey()).toBe(kept[0]);
  });

  it('deleting while iterating visits each remaining entry once, in order', () => {
    const map = new AgeOrderedMap<string, number>();
    for (let i = 0; i < 8; i++) map.set(`k${i}`, i);
    const seen: string[] = [];
    for (const [key, value] of map) {
      seen.push(key);
      map.delete(key); // the current one
      if (value % 2 === 0) map.delete(`k${value + 1}`); // one not reached yet
    }
    expect(seen).toEqual(['k0', 'k2', 'k4', 'k6']);
    expect(map.size).toBe(0);
    map.clear();
    map.set('x', 1);
    expect(keysOf(map)).toEqual(['x']);
  });
});
