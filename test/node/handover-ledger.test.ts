import { describe, expect, it } from 'vitest';
import { HandoverLedger } from '../../src/node/handover-ledger.ts';

describe('HandoverLedger', () => {
  it('is bounded by count: the oldest adopted go first, a re-adopted agent counts as young', () => {
    const ledger = new HandoverLedger(() => 0, 60_000, 3);
    ledger.adopted('a', 'n1');
    ledger.adopted('b', 'n1');
    ledger.adopted('c', 'n2');
    ledger.adopted('a', 'n3'); // adopted again, from another node: now the youngest
    ledger.adopted('d', 'n1');
    expect(ledger.size).toBe(3);
    expect(ledger.forwardsFor('n1', 'b')).toBe(false);
    expect(ledger.forwardsFor('n2', 'c')).toBe(true);
    expect(ledger.forwardsFor('n3', 'a')).toBe(true);
    expect(ledger.forwardsFor('n1', 'a')).toBe(false);
    expect(ledger.forwardsFor('n1', 'd')).toBe(true);
  });

  it('stays at its bound over many more adoptions, keeping the latest', () => {
    const ledger = new HandoverLedger(() => 0, 60_000, 1000);
    for (let i = 0; i < 20_000; i++) ledger.adopted(`agent-${i}`, 'n1');
    expect(ledger.size).toBe(1000);
    expect(ledger.forwardsFor('n1', 'agent-18999')).toBe(false);
    expect(ledger.forwardsFor('n1', 'agent-19000')).toBe(true);
  });

  it('forgets an entry older than its ttl', () => {
    let now = 0;
    const ledger = new HandoverLedger(() => now, 1_000, 10);
    ledger.adopted('a', 'n1');
    now = 1_001;
    expect(ledger.forwardsFor('n1', 'a')).toBe(false);
    expect(ledger.size).toBe(0);
  });
});
