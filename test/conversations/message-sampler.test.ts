import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { MessageSampler } from '../../src/node/message-sampler.ts';

describe('MessageSampler (GET /api/v1/events message sampling)', () => {
  it('lets the first N of each second through, then nothing until the next second', () => {
    let now = 10_000;
    const sampler = new MessageSampler(3, () => now);
    const taken = () => Array.from({ length: 5 }, () => sampler.take()).filter(Boolean).length;
    expect(taken()).toBe(3);
    now += 999;
    expect(taken()).toBe(0);
    now += 1;
    expect(taken()).toBe(3);
  });

  it('0 shows no messages', () => {
    expect(new MessageSampler(0, () => 0).take()).toBe(false);
  });

  it('is configured by events.messages_per_second (default 100), also from the environment', () => {
    expect(loadConfig({ env: {} }).events.messages_per_second).toBe(100);
    expect(loadConfig({ env: { CAXTON_EVENTS_MESSAGES_PER_SECOND: '0' } }).events.messages_per_second).toBe(0);
    expect(() => loadConfig({ env: { CAXTON_EVENTS_MESSAGES_PER_SECOND: '-1' } })).toThrow(/events\.messages_per_second/);
  });
});
