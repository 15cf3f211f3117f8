import { describe, expect, it } from 'vitest';
import { SendBucket } from '../../src/agents/send-bucket.ts';

describe('SendBucket', () => {
  it('gives the burst at once, then the rate, never more than the burst after idling, fractions carried over', () => {
    let now = 0;
    const bucket = new SendBucket(1000, 10, () => now); // 1 per ms
    const takeAll = () => {
      let n = 0;
      while (bucket.take()) n++;
      return n;
    };
    expect(takeAll()).toBe(10);
    now += 5;
    expect(takeAll()).toBe(5);
    now += 0.5;
    expect(takeAll()).toBe(0);
    now += 0.5; // the half ms before counts: one whole token now
    expect(takeAll()).toBe(1);
    now += 1_000_000;
    expect(takeAll()).toBe(10);
  });
});
