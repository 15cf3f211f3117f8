// --join by DNS name: every address a name resolves to, both families, resolved again on every attempt.
import { describe, expect, it, vi } from 'vitest';
import { addressesToJoin, MAX_JOIN_ADDRESSES, resolveJoinAddresses, type LookupAll } from '../../src/cluster/join-addresses.ts';
import { JoinRetry } from '../../src/cluster/join-retry.ts';
import type { PeerAddress } from '../../src/cluster/membership/transport.ts';

const table = (answers: Record<string, string[]>): LookupAll => async (host) => {
  const list = answers[host];
  if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('resolveJoinAddresses', () => {
  it('gives every address of a name, IPv4 and IPv6, with the entry port; IP literals as they are', async () => {
    const lookup = table({ 'caxton.svc': ['10.0.0.1', '10.0.0.2', 'fd00::3'] });
    const { addresses, unresolved } = await resolveJoinAddresses(
      [
        { host: 'caxton.svc', port: 7946 },
        { host: '10.0.0.9', port: 8000 },
      ],
      lookup,
    );
    expect(addresses).toEqual([
      { host: '10.0.0.1', port: 7946 },
      { host: '10.0.0.2', port: 7946 },
      { host: 'fd00::3', port: 7946 },
      { host: '10.0.0.9', port: 8000 },
    ]);
    expect(unresolved).toEqual([]);
  });

  it('drops duplicates, reports names that did not resolve, and caps the list', async () => {
    const many = Array.from({ length: 200 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    const lookup = table({ a: ['10.0.0.1'], b: ['10.0.0.1', '10.0.0.2'], big: many });
    const { addresses, unresolved } = await resolveJoinAddresses(
      [
        { host: 'a', port: 1 },
        { host: 'b', port: 1 },
        { host: 'missing', port: 1 },
      ],
      lookup,
    );
    expect(addresses).toEqual([
      { host: '10.0.0.1', port: 1 },
      { host: '10.0.0.2', port: 1 },
    ]);
    expect(unresolved).toEqual(['missing: ENOTFOUND']);
    expect((await resolveJoinAddresses([{ host: 'big', port: 1 }], lookup)).addresses).toHaveLength(MAX_JOIN_ADDRESSES);
  });
});

describe('addressesToJoin', () => {
  const self = { host: '10.0.0.1', port: 7946 };

  it('leaves out this node (a headless service lists the asking pod too)', async () => {
    const lookup = table({ svc: ['10.0.0.1', '10.0.0.2'] });
    expect(await addressesToJoin([{ host: 'svc', port: 7946 }], lookup, self)).toEqual([{ host: '10.0.0.2', port: 7946 }]);
  });

  it('rejects when nothing but this node, or nothing at all, is left, saying why', async () => {
    await expect(addressesToJoin([{ host: 'svc', port: 7946 }], table({ svc: ['10.0.0.1'] }), self)).rejects.toThrow(/own address/);
    await expect(addressesToJoin([{ host: 'gone', port: 7946 }], table({}), self)).rejects.toThrow(/gone: ENOTFOUND/);
  });
});

describe('JoinRetry', () => {
  it('resolves the name again on every attempt, so members that appear later are found', async () => {
    const answers: Record<string, string[]> = {};
    const lookup: LookupAll = async (host) => table(answers)(host);
    const tried: PeerAddress[][] = [];
    const retries: string[] = [];
    const retry = new JoinRetry({
      addresses: () => addressesToJoin([{ host: 'svc', port: 7946 }], lookup, { host: '10.0.0.1', port: 7946 }),
      join: async (addresses) => {
        tried.push(addresses);
        if (!addresses.some((a) => a.host === '10.0.0.3')) throw new Error('nobody answered');
        return 1;
      },
      initialDelayMs: 1,
      maxDelayMs: 2,
      fastDelayMs: 1,
      fastPhaseMs: 0,
      random: () => 0.5,
      onJoined: () => {},
      onRetry: (error) => {
        retries.push(error.message);
        // The DNS record fills in as pods start.
        if (retries.length === 1) answers.svc = ['10.0.0.1'];
        if (retries.length === 2) answers.svc = ['10.0.0.1', '10.0.0.2'];
        if (retries.length === 3) answers.svc = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
      },
    });
    retry.start();
    await retry.joined;
    retry.stop();
    expect(retries[0]).toMatch(/ENOTFOUND/);
    expect(retries[1]).toMatch(/own address/);
    expect(tried.map((list) => list.map((a) => a.host))).toEqual([['10.0.0.2'], ['10.0.0.2', '10.0.0.3']]);
  });

  /** A JoinRetry on fake timers whose target answers once `up()` says so; every attempt's time is kept. */
  function retryUntil(up: () => boolean, fastPhaseMs: number): { retry: JoinRetry; attempts: number[] } {
    const attempts: number[] = [];
    const retry = new JoinRetry({
      addresses: async () => [{ host: '10.0.0.2', port: 7946 }],
      join: async () => {
        attempts.push(Date.now());
        if (!up()) throw new Error('nobody answered');
        return 1;
      },
      fastDelayMs: 400,
      fastPhaseMs,
      initialDelayMs: 1000,
      maxDelayMs: 30_000,
      random: () => 0.5,
      now: () => Date.now(),
      onJoined: () => {},
      onRetry: () => {},
    });
    return { retry, attempts };
  }

  it('after the fast phase, a node joining this one brings the slow retry forward and starts the fast phase again', async () => {
    vi.useFakeTimers();
    try {
      let targetUp = false;
      const { retry, attempts } = retryUntil(() => targetUp, 60_000);
      const start = Date.now();
      retry.start();
      // Past the fast phase the backoff doubles: 1, 2, 4, 8, 16 s, then 30 s.
      await vi.advanceTimersByTimeAsync(60_000 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 100);
      const before = attempts.length;
      expect(attempts[before - 1] - attempts[before - 2]).toBe(16_000);
      // Another node joins this one: the next attempt is 400 ms away, not 30 s.
      retry.quicken();
      targetUp = true;
      await vi.advanceTimersByTimeAsync(400);
      expect(attempts.length).toBe(before + 1);
      await retry.joined;
      expect(attempts[attempts.length - 1] - start).toBeLessThan(92_000);
      // Joined: quickening again does nothing.
      retry.quicken();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(attempts.length).toBe(before + 1);
      retry.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('quickened while the target still does not answer: retries every fastDelayMs for another fast phase', async () => {
    vi.useFakeTimers();
    try {
      const { retry, attempts } = retryUntil(() => false, 10_000);
      retry.start();
      await vi.advanceTimersByTimeAsync(40_000);
      retry.quicken();
      const from = attempts.length;
      await vi.advanceTimersByTimeAsync(8_000);
      // 400 ms apart again: 20 attempts in 8 s.
      expect(attempts.length - from).toBe(20);
      retry.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
