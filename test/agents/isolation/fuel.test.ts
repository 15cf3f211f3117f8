import { describe, expect, it } from 'vitest';
import { agentModule, echoAgent, message, setup } from '../fixtures.ts';

const spinner = () => agentModule(() => ({ handle: '(loop $forever (br $forever)) (i32.const 0)' }));

// Counts to the number in its first byte × 1000, then answers 0: a bounded, fuel-proportional workload.
const counter = () =>
  agentModule(() => ({
    handle: `(local $i i32) (local $n i32)
      (local.set $n (i32.mul (i32.load8_u (local.get $ptr)) (i32.const 1000)))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i32.const 0)`,
  }));

describe('fuel', () => {
  it('stops an agent that loops forever; its requester gets failure while another agent keeps answering', async () => {
    const traps: string[] = [];
    const { runtime, sink, deploy, logText } = setup({ observer: { onTrap: (_agent, reason) => traps.push(reason) } });
    await deploy('spin', await spinner(), { limits: { memory_pages: 256, fuel: 1_000_000, mailbox: 100 } });
    await deploy('echo', await echoAgent());
    for (let i = 0; i < 3; i++) {
      expect(runtime.deliver(message('spin', { sender: 'client:alice', message_id: `spin-${i}` }), 'spin')).toBe('queued');
      expect(runtime.deliver(message('echo', { sender: 'client:bob', message_id: `echo-${i}` }), 'echo')).toBe('queued');
    }
    await runtime.whenIdle();
    const toAlice = sink.messages.filter((m) => m.receiver === 'client:alice');
    const toBob = sink.messages.filter((m) => m.receiver === 'client:bob');
    expect(toBob.map((m) => m.content)).toEqual(['pong', 'pong', 'pong']);
    expect(toAlice).toHaveLength(3);
    for (const reply of toAlice) {
      expect(reply.performative).toBe('failure');
      expect(reply.content).toMatchObject({ error: { code: 'AGENT_TRAPPED', details: { reason: 'fuel_exhausted' } } });
    }
    expect(traps).toEqual(['fuel_exhausted', 'fuel_exhausted', 'fuel_exhausted']);
    expect(logText('spin').some((l) => l.includes('FUEL_EXHAUSTED'))).toBe(true);
    const stats = runtime.stats('spin');
    expect(stats.traps_by_reason).toEqual({ fuel_exhausted: 3 });
    expect(stats.fuel_used).toBe(3_000_000);
    expect(runtime.state('spin')).toBe('running');
  });

  it('charges fuel in proportion to the work done, deterministically', async () => {
    const { runtime, deploy } = setup();
    await deploy('count', await counter());
    const used: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = runtime.stats('count').fuel_used;
      runtime.deliver(message('count', { performative: 'inform', content: 'x' }), 'count');
      await runtime.whenIdle();
      used.push(runtime.stats('count').fuel_used - before);
    }
    expect(used[0]).toBeGreaterThan(0);
    expect(used[0]).toBe(used[2]);
  });

  it('a budget just large enough lets the invocation finish; one smaller traps it', async () => {
    const { runtime, deploy } = setup();
    await deploy('a', await counter());
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    const needed = runtime.stats('a').fuel_used;
    const fits = setup();
    await fits.deploy('b', await counter(), { limits: { memory_pages: 256, fuel: needed, mailbox: 10 } });
    fits.runtime.deliver(message('b', { performative: 'inform' }), 'b');
    await fits.runtime.whenIdle();
    expect(fits.runtime.stats('b').traps).toBe(0);
    const short = setup();
    await short.deploy('c', await counter(), { limits: { memory_pages: 256, fuel: needed - 1, mailbox: 10 } });
    short.runtime.deliver(message('c', { performative: 'inform' }), 'c');
    await short.runtime.whenIdle();
    expect(short.runtime.stats('c').traps_by_reason).toEqual({ fuel_exhausted: 1 });
  });

  it('each invocation gets the whole budget again, back to back in one visit', async () => {
    const { runtime, deploy } = setup();
    await deploy('a', await counter());
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    const needed = runtime.stats('a').fuel_used;
    // A budget of exactly what one message needs: any fuel not given back after one invocation traps the next.
    const exact = setup();
    await exact.deploy('b', await counter(), { limits: { memory_pages: 256, fuel: needed, mailbox: 10 } });
    for (let i = 0; i < 5; i++) expect(exact.runtime.deliver(message('b', { performative: 'inform', message_id: `m${i}` }), 'b')).toBe('queued');
    await exact.runtime.whenIdle();
    expect(exact.runtime.stats('b')).toMatchObject({ invocations: 5, traps: 0, fuel_used: 5 * needed });
  });
});
