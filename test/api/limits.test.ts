// The bounded counters behind the rate limits and the audit aggregation: windows turn on the injected clock,
// and callers beyond the bound share one overflow budget or row instead of growing memory.
import { describe, expect, it } from 'vitest';
import { AuditAggregator, OTHER_SOURCES } from '../../src/api/audit-aggregator.ts';
import { FixedWindowLimiter } from '../../src/api/fixed-window-limiter.ts';
import type { AuditEntry } from '../../src/node/services.ts';

describe('FixedWindowLimiter', () => {
  it('counts per key within a window and says how long until it turns', () => {
    let now = 10_000;
    const limiter = new FixedWindowLimiter({ windowMs: 1000, maxKeys: 10, now: () => now });
    expect([limiter.take('a', 2), limiter.take('a', 2)]).toEqual([0, 0]);
    now += 250;
    expect(limiter.take('a', 2)).toBe(750);
    expect(limiter.blocked('a', 2)).toBe(750);
    expect(limiter.take('b', 2)).toBe(0);
    now += 750;
    expect(limiter.take('a', 2)).toBe(0);
  });

  it('keys beyond maxKeys share one overflow budget: a flood of new keys neither grows memory nor goes unlimited', () => {
    const limiter = new FixedWindowLimiter({ windowMs: 60_000, maxKeys: 100, now: () => 0 });
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) if (limiter.take(`10.0.${i >> 8}.${i & 255}`, 5) === 0) allowed++;
    expect(limiter.size).toBeLessThanOrEqual(101);
    // The first 100 addresses have their own budget (one request each here); the other 9,900 share 5.
    expect(allowed).toBe(100 + 5);
  });
});

describe('AuditAggregator', () => {
  const denial = (ip: string): AuditEntry => ({ principal: 'unauthenticated', action: 'GET /x', outcome: 'denied', details: { code: 'UNAUTHENTICATED', ip } });

  it('writes the first denials of a group, then one row with the count of the rest', () => {
    const written: AuditEntry[] = [];
    const audit = new AuditAggregator({ write: (e) => written.push(e), windowMs: 10_000, eachPerWindow: 3, maxGroups: 100 });
    for (let i = 0; i < 50; i++) audit.record(denial('10.0.0.1'), 'flood');
    expect(written).toHaveLength(3);
    audit.flush();
    expect(written).toHaveLength(4);
    expect(written[3].details).toMatchObject({ aggregated: true, count: 47, ip: '10.0.0.1' });
  });

  it('counts a flood from ever new addresses into one row naming the addresses that sent most, and bounds them', () => {
    const written: AuditEntry[] = [];
    const audit = new AuditAggregator({ write: (e) => written.push(e), windowMs: 10_000, eachPerWindow: 3, maxGroups: 100 });
    // One address sends 50, then 5,000 addresses one each: one group, so three rows as they happen.
    for (let i = 0; i < 50; i++) audit.record(denial('10.9.9.9'), 'flood');
    for (let i = 0; i < 5000; i++) audit.record(denial(`10.2.${i >> 8}.${i & 255}`), 'flood');
    expect(written).toHaveLength(3);
    audit.flush();
    expect(written).toHaveLength(4);
    const row = written[3].details!;
    expect(row).toMatchObject({ aggregated: true, count: 5047, code: 'UNAUTHENTICATED', sources: 101 });
    expect(row).not.toHaveProperty('ip');
    const top = row.top_sources as { ip: string; count: number }[];
    expect(top).toHaveLength(10);
    // The first 100 addresses are counted each (10.9.9.9 sent 47 unwritten); the rest share one entry.
    expect(top[0]).toEqual({ ip: OTHER_SOURCES, count: 5047 - 47 - 99 });
    expect(top[1]).toEqual({ ip: '10.9.9.9', count: 47 });
    // The next window starts with no address held.
    for (let i = 0; i < 10; i++) audit.record(denial(`10.3.0.${i}`), 'flood');
    audit.flush();
    expect(written[written.length - 1].details).toMatchObject({ count: 7, sources: 7 });
  });

  it('counts routine calls per outcome and reason, and bounds its groups', () => {
    const written: AuditEntry[] = [];
    const audit = new AuditAggregator({ write: (e) => written.push(e), windowMs: 10_000, eachPerWindow: 3, maxGroups: 2 });
    const send = (status: number): AuditEntry => ({ principal: 'app', action: 'POST /api/v1/messages', outcome: status < 400 ? 'ok' : 'error', details: { status } });
    for (let i = 0; i < 10; i++) audit.record(send(202), 'count');
    for (let i = 0; i < 4; i++) audit.record(send(400), 'count');
    for (let i = 0; i < 1000; i++) audit.record(denial(`10.1.${i >> 8}.${i & 255}`), 'flood');
    expect(written).toHaveLength(0);
    audit.flush();
    expect(written.map((e) => [e.principal, e.details?.status ?? null, e.details?.count])).toEqual([
      ['app', 202, 10],
      ['app', 400, 4],
      ['*', null, 1000],
    ]);
  });
});
