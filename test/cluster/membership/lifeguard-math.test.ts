import { describe, expect, it } from 'vitest';
import { Awareness } from '../../../src/cluster/membership/awareness.ts';
import type { Clock } from '../../../src/cluster/membership/clock.ts';
import { Suspicion } from '../../../src/cluster/membership/suspicion.ts';
import { pushPullScale, remainingSuspicionTime, retransmitLimit, suspicionTimeout } from '../../../src/cluster/membership/timing.ts';

/** A manual clock: timers fire only when advanced. */
function manualClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimer: (ms, fn) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      if (h) (h as { cancelled: boolean }).cancelled = true;
    },
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      now = due.at;
      due.cancelled = true;
      due.fn();
    }
    now = until;
    timers = timers.filter((t) => !t.cancelled);
  };
  return { clock, advance };
}

describe('memberlist util.go formulas', () => {
  it('suspicionTimeout scales with log10(n), at least 1', () => {
    expect(suspicionTimeout(4, 1, 1000)).toBe(4000);
    expect(suspicionTimeout(4, 10, 1000)).toBe(4000);
    expect(suspicionTimeout(4, 100, 1000)).toBe(8000);
    expect(suspicionTimeout(4, 1000, 1000)).toBe(12000);
    expect(suspicionTimeout(3, 50, 500)).toBeCloseTo(3 * 1.698 * 500, 6);
  });
  it('retransmitLimit is mult * ceil(log10(n + 1)), at least mult * 2 (more than memberlist under 10 nodes)', () => {
    expect(retransmitLimit(4, 0)).toBe(0);
    expect(retransmitLimit(4, 1)).toBe(8);
    expect(retransmitLimit(4, 9)).toBe(8);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(4, 1000)).toBe(16);
  });
  it('pushPullScale leaves <= 32 nodes alone and grows with log2 beyond', () => {
    expect(pushPullScale(30_000, 32)).toBe(30_000);
    expect(pushPullScale(30_000, 33)).toBe(60_000);
    expect(pushPullScale(30_000, 1000)).toBe(180_000);
  });
  it('remainingSuspicionTime shrinks logarithmically from max to min', () => {
    expect(remainingSuspicionTime(0, 3, 0, 2000, 30000)).toBe(30000);
    expect(remainingSuspicionTime(1, 3, 0, 2000, 30000)).toBe(16000);
    expect(remainingSuspicionTime(2, 3, 0, 2000, 30000)).toBe(7810);
    expect(remainingSuspicionTime(3, 3, 0, 2000, 30000)).toBe(2000);
    expect(remainingSuspicionTime(3, 3, 2500, 2000, 30000)).toBe(-500);
  });
});

describe('Suspicion (Lifeguard dynamic timeout)', () => {
  it('with k = 0 uses the min timeout', () => {
    const { clock, advance } = manualClock();
    let fired: number | undefined;
    new Suspicion('a', 0, 2000, 30000, clock, (n) => (fired = n));
    advance(1999);
    expect(fired).toBeUndefined();
    advance(1);
    expect(fired).toBe(0);
  });
  it('starts at max and each new confirmation shortens it; duplicates do not count', () => {
    const { clock, advance } = manualClock();
    let firedAt: number | undefined;
    const s = new Suspicion('me', 3, 2000, 30000, clock, () => (firedAt = clock.now()));
    expect(s.confirm('me')).toBe(false);
    advance(1000);
    expect(s.confirm('b')).toBe(true); // 16 s total
    expect(s.confirm('b')).toBe(false);
    advance(1000);
    expect(s.confirm('c')).toBe(true); // 7.810 s total
    advance(5000);
    expect(firedAt).toBeUndefined();
    advance(810);
    expect(firedAt).toBe(7810);
    expect(s.confirm('d')).toBe(true); // counted, but already fired: no second call
  });
  it('fires at once (through a timer) when enough confirmations arrive late', () => {
    const { clock, advance } = manualClock();
    let fired = 0;
    const s = new Suspicion('me', 1, 2000, 30000, clock, () => (fired += 1));
    advance(5000);
    s.confirm('b');
    expect(fired).toBe(0);
    advance(0);
    expect(fired).toBe(1);
  });
  it('cancel stops it', () => {
    const { clock, advance } = manualClock();
    let fired = false;
    const s = new Suspicion('me', 0, 100, 100, clock, () => (fired = true));
    s.cancel();
    advance(1000);
    expect(fired).toBe(false);
  });
});

describe('Awareness (local health)', () => {
  it('scales timeouts by score + 1, clamped to [0, max - 1]', () => {
    const a = new Awareness(8);
    expect(a.scaleTimeout(1000)).toBe(1000);
    a.applyDelta(3);
    expect(a.healthScore()).toBe(3);
    expect(a.scaleTimeout(1000)).toBe(4000);
    a.applyDelta(100);
    expect(a.healthScore()).toBe(7);
    expect(a.scaleTimeout(500)).toBe(4000);
    a.applyDelta(-100);
    expect(a.healthScore()).toBe(0);
  });
  it('max 1 disables it', () => {
    const a = new Awareness(1);
    a.applyDelta(5);
    expect(a.scaleTimeout(1000)).toBe(1000);
  });
});
