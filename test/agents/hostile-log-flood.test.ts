// An agent's log lines are bounded by a rate (agents.log_rate, agents.log_burst), not only by the ring that keeps
// the last 500: each line of an agent on a worker is posted to the main thread, and a timer loop made 223,000/s.
import { describe, expect, it } from 'vitest';
import { agentModule, message, setup } from './fixtures.ts';

const flooder = (lines: number) =>
  agentModule((s) => ({
    handle: `(local $i i32)
      (loop $l
        (call $log (i32.const 2) ${s('flood')})
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const ${lines}))))
      (i32.const 0)`,
  }));

describe('agent log rate', () => {
  it('keeps log_burst lines at once, then log_rate a second, and says how many it dropped', async () => {
    let posted = 0;
    const env = setup({ limits: { logRate: 10, logBurst: 100 }, logRingSize: 1000, observer: { onLog: () => void posted++ } });
    await env.deploy('a', await flooder(1_000));
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    expect(env.logText('a').filter((l) => l === 'flood')).toHaveLength(100);
    expect(posted).toBe(100);

    env.clock.ms += 1_000;
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    const lines = env.logText('a');
    expect(lines[100]).toBe("900 log lines dropped: over this node's agents.log_rate");
    expect(lines.slice(101)).toEqual(Array(10).fill('flood'));
    expect(env.runtime.stats('a').traps).toBe(0);
  });

  it('the runtime\'s own lines (traps) are not held back by the agent\'s rate', async () => {
    const env = setup({ limits: { logRate: 1, logBurst: 1 } });
    const bytes = await agentModule((s) => ({ handle: `(call $log (i32.const 2) ${s('x')}) (call $log (i32.const 2) ${s('y')}) unreachable` }));
    await env.deploy('a', bytes);
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    expect(env.logText('a')).toEqual(['x', expect.stringContaining('trap in message')]);
  });
});
