import { describe, expect, it } from 'vitest';
import { ClientOrigins } from '../../src/messaging/client-origins.ts';

describe('ClientOrigins', () => {
  it('remembers which node a client wrote from, per conversation', () => {
    const origins = new ClientOrigins({ maxEntries: 10, ttlMs: 1000 });
    origins.remember('client:a', 'c1', 'n1');
    origins.remember('client:a', 'c2', 'n3');
    expect(origins.nodeOf('client:a', 'c1')).toBe('n1');
    expect(origins.nodeOf('client:a', 'c2')).toBe('n3');
    expect(origins.nodeOf('client:b', 'c1')).toBeUndefined();
  });

  it('is bounded: the least recently written entry goes first', () => {
    const origins = new ClientOrigins({ maxEntries: 2, ttlMs: 1000 });
    origins.remember('client:a', 'c1', 'n1');
    origins.remember('client:a', 'c2', 'n1');
    origins.remember('client:a', 'c1', 'n2'); // c1 written again: c2 is now the oldest
    origins.remember('client:a', 'c3', 'n1');
    expect(origins.size).toBe(2);
    expect(origins.nodeOf('client:a', 'c2')).toBeUndefined();
    expect(origins.nodeOf('client:a', 'c1')).toBe('n2');
  });

  it('forgets an entry after its time to live', () => {
    let now = 0;
    const origins = new ClientOrigins({ maxEntries: 10, ttlMs: 100, now: () => now });
    origins.remember('client:a', 'c1', 'n1');
    now = 101;
    expect(origins.nodeOf('client:a', 'c1')).toBeUndefined();
    expect(origins.size).toBe(0);
  });
});
