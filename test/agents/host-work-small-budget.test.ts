// Host work is charged from the budget not yet handed out, then from the slice the code runs on. A budget of
// one slice or less (FUEL_SLICE) is all handed out at once: charging only from the rest made the first
// send_message of such an agent trap as fuel_exhausted (found by the CI run of the change that added charges).
import { describe, expect, it } from 'vitest';
import { FUEL_SLICE } from '../../src/agents/metering/fuel-meter.ts';
import { echoAgent, message, setup } from './fixtures.ts';

describe('host work on a budget of one slice or less', () => {
  it('an echo agent with fuel well under one slice answers message after message', async () => {
    const traps: string[] = [];
    const { runtime, sink, deploy } = setup({ observer: { onTrap: (_agent, reason) => traps.push(reason) } });
    await deploy('echo', await echoAgent(), { limits: { memory_pages: 16, fuel: 100_000, mailbox: 100 } });
    expect(100_000).toBeLessThan(FUEL_SLICE);
    for (let i = 0; i < 20; i++) runtime.deliver(message('echo', { sender: 'client:alice', message_id: `m${i}` }), 'echo');
    await runtime.whenIdle();
    expect(traps).toEqual([]);
    expect(sink.messages.filter((m) => m.receiver === 'client:alice')).toHaveLength(20);
  });

  it('host work past such a budget still traps as fuel: a send larger than the whole budget allows', async () => {
    const traps: string[] = [];
    const { runtime, deploy } = setup({ observer: { onTrap: (_agent, reason) => traps.push(reason) } });
    // 2,000 fuel; a 64 KiB message costs 16,384 of host work alone.
    await deploy('echo', await echoAgent(), { limits: { memory_pages: 16, fuel: 2_000, mailbox: 100 } });
    runtime.deliver(message('echo', { sender: 'client:alice', content: 'x'.repeat(64 * 1024) }), 'echo');
    await runtime.whenIdle();
    expect(traps).toEqual(['fuel_exhausted']);
  });
});
