// memory.init copies up to a whole data segment in one instruction: its bytes are charged as memory.fill's and
// memory.copy's are, so fuel (and the wall-clock check at each slice of it) bounds a loop of them.
import { describe, expect, it } from 'vitest';
import { message, setup, wat } from './fixtures.ts';

describe('memory.init is metered by the bytes it copies', () => {
  it('a loop of 1 MiB memory.init ends as fuel_exhausted, in milliseconds', async () => {
    const source = `(module (memory (export "memory") 32)
      (data $d "${'a'.repeat(1 << 20)}")
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32) (local $i i32)
        (loop $l (memory.init $d (i32.const 65536) (i32.const 0) (i32.const ${1 << 20}))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 20000))))
        (i32.const 0)))`;
    const env = setup();
    await env.deploy('a', await wat(source));
    const started = performance.now();
    env.runtime.deliver(message('a'), 'a');
    await env.runtime.whenIdle();
    // Uncharged: 20,000 copies (20 GiB) took 2.9 s on 240,003 fuel, and the budget allowed 40 times more.
    expect(env.runtime.stats('a').traps_by_reason).toEqual({ fuel_exhausted: 1 });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(env.sink.messages[0]).toMatchObject({ performative: 'failure' });
  });

  it('a memory.init within the budget still copies its bytes', async () => {
    const source = `(module
      (import "caxton" "log" (func $log (param i32 i32 i32)))
      (memory (export "memory") 2)
      (data $d "hello from a passive segment")
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32)
        (memory.init $d (i32.const 65536) (i32.const 0) (i32.const 28))
        (call $log (i32.const 2) (i32.const 65536) (i32.const 28))
        (i32.const 0)))`;
    const env = setup();
    await env.deploy('a', await wat(source));
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    expect(env.logText('a')).toEqual(['hello from a passive segment']);
  });
});
