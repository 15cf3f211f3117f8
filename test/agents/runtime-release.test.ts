// AgentRuntime.release, the runtime's part of a drain: the agent leaves this runtime at once, its queued
// messages come back in arrival order (to be forwarded, not answered here), and nothing more reaches it.
import { describe, expect, it } from 'vitest';
import { echoAgent, message, setup } from './fixtures.ts';

describe('agent runtime: release for a hand-over', () => {
  it('returns the queued messages in order, answers none of them, and forgets the agent', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('echo', await echoAgent());
    const queued = Array.from({ length: 5 }, (_, i) => message('echo', { content: `m${i}` }));
    for (const m of queued) expect(runtime.deliver(m, 'echo')).toBe('queued');
    const released = runtime.release('echo');
    expect(released.map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(runtime.has('echo')).toBe(false);
    expect(runtime.deliver(message('echo'), 'echo')).toBe('not_found');
    await runtime.whenIdle();
    expect(sink.messages).toEqual([]);
  });
});
