import { describe, expect, it } from 'vitest';
import { echoAgent, message, setup } from '../fixtures.ts';

describe('many agents on one node', () => {
  it('compiles once, instantiates lazily on first message, keeps live instances under the cap', async () => {
    const { runtime, sink, deploy } = setup({ maxLiveInstances: 50 });
    const bytes = await echoAgent();
    for (let i = 0; i < 500; i++) await deploy(`a${i}`, bytes);
    expect(runtime.cache.compiles).toBe(1);
    expect(runtime.live.size).toBe(1); // the first deploy proves the module; the others wait for a message
    for (let i = 0; i < 500; i++) runtime.deliver(message(`a${i}`, { sender: 'client:c', message_id: `m${i}` }), `a${i}`);
    await runtime.whenIdle();
    expect(sink.messages.filter((m) => m.content === 'pong')).toHaveLength(500);
    expect(runtime.live.size).toBeLessThanOrEqual(50);
    expect(runtime.live.evicted).toBeGreaterThanOrEqual(450);
    // An evicted agent is still running and answers again with a fresh instance.
    runtime.deliver(message('a0', { sender: 'client:c' }), 'a0');
    await runtime.whenIdle();
    expect(sink.messages).toHaveLength(501);
    expect(runtime.state('a0')).toBe('running');
  });
});
