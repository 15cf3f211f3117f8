import { describe, expect, it } from 'vitest';
import { clampMemoryMaximum } from '../../../src/agents/metering/memory-clamp.ts';
import { agentModule, message, setup, wat } from '../fixtures.ts';

// Grows its memory by one page per message; answers 9 if memory.grow ever returned -1.
const grower = () =>
  agentModule(() => ({
    handle: '(if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then (return (i32.const 9)))) (i32.const 0)',
  }));

describe('memory limit', () => {
  it('growth past the agent limit traps with memory_exhausted and the requester gets failure', async () => {
    const { runtime, sink, deploy, logText } = setup();
    await deploy('grow', await grower(), { limits: { memory_pages: 5, fuel: 1_000_000, mailbox: 10 } });
    for (let i = 0; i < 3; i++) runtime.deliver(message('grow', { message_id: `g-${i}` }), 'grow');
    await runtime.whenIdle();
    // 3 pages declared: two grows fit in 5 pages, the third would pass the limit.
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({ performative: 'failure', in_reply_to: 'g-2' });
    expect(sink.messages[0].content).toMatchObject({ error: { code: 'AGENT_TRAPPED', details: { reason: 'memory_exhausted' } } });
    expect(runtime.stats('grow').traps_by_reason).toEqual({ memory_exhausted: 1 });
    expect(logText('grow').some((l) => l.includes('MEMORY_EXHAUSTED'))).toBe(true);
  });

  it('reports the live memory size in pages', async () => {
    const { runtime, deploy } = setup();
    await deploy('grow', await grower());
    expect(runtime.stats('grow').memory_pages).toBe(3);
    runtime.deliver(message('grow', { performative: 'inform' }), 'grow');
    await runtime.whenIdle();
    expect(runtime.stats('grow').memory_pages).toBe(4);
  });

  it('clamps the declared maximum to the limit, also when the module declares none', async () => {
    const none = await wat('(module (memory (export "memory") 2))');
    const lower = await wat('(module (memory (export "memory") 2 3))');
    const clampedNone = clampMemoryMaximum(none, 10);
    expect(clampedNone).toMatchObject({ minPages: 2, maxPages: 10 });
    const memory = new WebAssembly.Instance(new WebAssembly.Module(clampedNone.bytes as Uint8Array<ArrayBuffer>)).exports.memory as WebAssembly.Memory;
    memory.grow(8);
    expect(() => memory.grow(1)).toThrow(RangeError);
    expect(clampMemoryMaximum(lower, 10)).toMatchObject({ minPages: 2, maxPages: 3 });
  });

  it('refuses at deploy a module whose declared minimum is above the limit, with both numbers', async () => {
    const { deploy } = setup();
    await expect(deploy('big', await grower(), { limits: { memory_pages: 2, fuel: 10, mailbox: 10 } })).rejects.toMatchObject({
      code: 'INVALID_MODULE',
      message: expect.stringMatching(/minimum of 3 pages, above this agent's limit of 2 pages/),
    });
  });
});
