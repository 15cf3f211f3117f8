// Security review, finding 2, in the cluster layer: the departed members `caxton cluster members` lists were
// kept 24 h with no cap (a peer naming members at will grew the map without end), and every member change
// was logged at info level, one line per message a peer without the gossip key sends. Now the list holds at
// most gossip.max_members and the lines go through a token bucket. Both are driven by an injected clock.
import { describe, expect, it } from 'vitest';
import { LastSeen } from '../../src/cluster/last-seen.ts';
import { LogBudget } from '../../src/cluster/log-budget.ts';
import { membershipConfigFrom } from '../../src/cluster/gossip-config.ts';
import type { Member } from '../../src/cluster/membership/member.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ConfigError } from '../../src/config/config-error.ts';

const member = (name: string, state: Member['state'] = 'left'): Member => ({ name, address: '10.0.0.1', port: 7946, meta: new Uint8Array(0), state, incarnation: 1, vsn: [1, 5, 2, 2, 5, 4] });

describe('the departed members listed after the core forgets them', () => {
  it('are at most max, the longest unchanged forgotten first', () => {
    const seen = new LastSeen(3, 24 * 3600_000);
    seen.note(member('a'), 0);
    seen.note(member('b'), 1);
    seen.note(member('c'), 2);
    seen.note(member('a', 'dead'), 3); // a changed last: b is now the longest unchanged
    for (let i = 0; i < 10_000; i++) seen.note(member(`fake-${i}`), 4);
    expect(seen.size).toBe(3);
    seen.note(member('d'), 5);
    expect(seen.list(5).map((m) => m.name)).toEqual(['fake-9998', 'fake-9999', 'd']);
  });

  it('are forgotten forgetAfterMs after their last change', () => {
    const seen = new LastSeen(10, 1000);
    seen.note(member('a'), 0);
    seen.note(member('b'), 500);
    expect(seen.list(1000).map((m) => m.name)).toEqual(['a', 'b']);
    expect(seen.list(1001).map((m) => m.name)).toEqual(['b']);
    expect(seen.size).toBe(1);
  });
});

describe('the member change log budget', () => {
  it('lets a burst through, then perSecond, and reports what it held back', () => {
    const now = { t: 0 };
    const budget = new LogBudget(5, 2, () => now.t);
    const taken = Array.from({ length: 100 }, () => budget.take());
    expect(taken.filter((x) => x !== undefined)).toEqual([0, 0, 0, 0, 0]);
    now.t += 500; // one token back
    expect(budget.take()).toBe(95);
    expect(budget.take()).toBeUndefined();
    now.t += 3600_000; // refills to the burst, no more
    expect(Array.from({ length: 10 }, () => budget.take()).filter((x) => x !== undefined)).toEqual([1, 0, 0, 0, 0]);
  });
});

describe('gossip.max_members and gossip.max_queued_broadcasts', () => {
  it('have their defaults, are read from the environment and reach the membership core', () => {
    const defaults = loadConfig({ env: {} }).gossip;
    expect(defaults).toMatchObject({ max_members: 5000, max_queued_broadcasts: 10_240 });
    expect(membershipConfigFrom(defaults)).toMatchObject({ maxMembers: 5000, maxQueuedBroadcasts: 10_240 });
    const set = loadConfig({ env: { CAXTON_GOSSIP_MAX_MEMBERS: '200', CAXTON_GOSSIP_MAX_QUEUED_BROADCASTS: '1000' } }).gossip;
    expect(membershipConfigFrom(set)).toMatchObject({ maxMembers: 200, maxQueuedBroadcasts: 1000 });
    expect(() => loadConfig({ env: { CAXTON_GOSSIP_MAX_MEMBERS: '0' } })).toThrow(ConfigError);
  });
});
