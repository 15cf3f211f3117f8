// The pieces behind `caxton cluster performance`: bounded latency rings, a rate over the last seconds, and
// failure detection measured from a member's first suspicion to its death.
import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../src/observability/latency-window.ts';
import { PerformanceRecorder, ROUTING_SAMPLE_EVERY } from '../../src/observability/performance-recorder.ts';
import { RateMeter } from '../../src/observability/rate-meter.ts';

describe('live performance figures', () => {
  it('a latency window keeps the most recent samples only', () => {
    const window = new LatencyWindow(4);
    expect(window.percentile(50)).toBeNull();
    for (const v of [100, 100, 100, 100, 1, 2, 3, 4]) window.record(v);
    expect(window.count).toBe(4);
    expect(window.percentile(50)).toBe(2);
    expect(window.percentile(99)).toBe(4);
  });

  it('a rate meter divides what the counter grew by the time its readings span', () => {
    let count = 0;
    let now = 0;
    const meter = new RateMeter(() => count, 5, { now: () => now, autoTick: false });
    expect(meter.perSecond()).toBe(0);
    for (let s = 1; s <= 10; s++) {
      now = s * 1000;
      count += 100 * s; // the rate rises second by second
      meter.tick();
    }
    // Six readings kept (seconds 5..10): what was counted in seconds 6..10, over those 5 s.
    expect(meter.perSecond()).toBeCloseTo((100 * (6 + 7 + 8 + 9 + 10)) / 5, 5);
  });

  it('failure detection runs from the first suspicion to the death; a refuted suspicion measures nothing', () => {
    const recorder = new PerformanceRecorder(() => 0);
    try {
      recorder.memberChanged('n2', 'suspect', 1_000);
      recorder.memberChanged('n2', 'suspect', 1_500);
      recorder.memberChanged('n2', 'dead', 3_200);
      recorder.memberChanged('n3', 'suspect', 5_000);
      recorder.memberChanged('n3', 'alive', 5_400);
      recorder.memberChanged('n3', 'dead', 9_000);
      expect(recorder.failureDetection.count).toBe(1);
      expect(recorder.failureDetection.percentile(99)).toBeCloseTo(2.2, 5);
    } finally {
      recorder.close();
    }
  });

  it('the timed sink times one routing decision in 64 and passes every message on', () => {
    const recorder = new PerformanceRecorder(() => 0);
    try {
      let routed = 0;
      const sink = recorder.timedSink({ route: () => void routed++ });
      for (let i = 0; i < ROUTING_SAMPLE_EVERY * 3; i++) sink.route({} as never);
      expect(routed).toBe(ROUTING_SAMPLE_EVERY * 3);
      expect(recorder.routing.count).toBe(3);
    } finally {
      recorder.close();
    }
  });
});
