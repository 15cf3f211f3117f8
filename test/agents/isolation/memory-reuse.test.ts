// An evicted instance's memory serves the next instance of its module (spare-memories.ts): the agent still
// starts fresh (zeroed memory, data segments written again, agent_init again), only the address-space
// reservation is saved. The module's defined memory becomes an import for that (memory-import.ts).
import { describe, expect, it } from 'vitest';
import { HOST_MEMORY_MODULE, HOST_MEMORY_NAME, importDefinedMemory } from '../../../src/agents/metering/memory-import.ts';
import { clampMemoryMaximum } from '../../../src/agents/metering/memory-clamp.ts';
import type { CompiledAgentModule } from '../../../src/agents/module-cache.ts';
import { SpareMemories } from '../../../src/agents/spare-memories.ts';
import { agentModule, message, setup, wat } from '../fixtures.ts';

/** Counts messages in memory from a data segment's 7, and reports what a previous instance left in page 1. */
const counter = (grows = false) =>
  agentModule((s) => ({
    init: `(call $report ${s('init')} (i32.const 1)) (i32.const 0)`,
    handle: `
      (local $v i32)
      (call $report ${s('junk')} (i32.load (i32.const 0x18000)))
      (i32.store (i32.const 0x18000) (i32.const 99))
      (local.set $v (i32.add (i32.load (i32.const 0x2000)) (i32.const 1)))
      (i32.store (i32.const 0x2000) (local.get $v))
      (call $report ${s('count')} (local.get $v))
      ${grows ? '(drop (memory.grow (i32.const 1)))' : ''}
      (i32.const 0)`,
    extra: '(data (i32.const 0x2000) "\\07")',
  }));

const module = (bytes: Uint8Array) => new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);

describe('memory import rewrite', () => {
  it('turns the defined memory into an import with the same limits, still exported, data segments kept', async () => {
    const bytes = await wat(`(module
      (import "caxton" "log" (func $log (param i32 i32 i32)))
      (memory (export "memory") 2)
      (data (i32.const 16) "hi")
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 0)))`);
    const rewritten = importDefinedMemory(clampMemoryMaximum(bytes, 5).bytes)!;
    expect(rewritten).toMatchObject({ initialPages: 2, maximumPages: 5 });
    const compiled = module(rewritten.bytes);
    expect(WebAssembly.Module.imports(compiled)).toEqual([
      { module: 'caxton', name: 'log', kind: 'function' },
      { module: HOST_MEMORY_MODULE, name: HOST_MEMORY_NAME, kind: 'memory' },
    ]);
    expect(WebAssembly.Module.exports(compiled).map((e) => `${e.name}:${e.kind}`)).toEqual(['memory:memory', 'agent_alloc:function']);
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 5 });
    const instance = new WebAssembly.Instance(compiled, { caxton: { log() {} }, [HOST_MEMORY_MODULE]: { [HOST_MEMORY_NAME]: memory } });
    expect(instance.exports.memory).toBe(memory);
    expect(Buffer.from(memory.buffer, 16, 2).toString()).toBe('hi');
  });

  it('adds an import section when the module has none; leaves a module without memory alone', async () => {
    const bare = await wat('(module (memory (export "memory") 1 1) (data (i32.const 0) "x"))');
    const rewritten = importDefinedMemory(bare)!;
    expect(WebAssembly.Module.imports(module(rewritten.bytes))).toEqual([{ module: HOST_MEMORY_MODULE, name: HOST_MEMORY_NAME, kind: 'memory' }]);
    expect(importDefinedMemory(await wat('(module (func (export "f")))'))).toBeNull();
  });
});

describe('spare memories', () => {
  const compiled = { sha256: 'abc', importedMemory: { initialPages: 1, maximumPages: 2 } } as CompiledAgentModule;

  it('hands back a zeroed memory of the initial size, never a grown one, and holds at most max', () => {
    const spares = new SpareMemories(1);
    const used = spares.take(compiled)!;
    new Uint8Array(used.buffer).fill(7, 4000, 9000);
    spares.give(compiled, used);
    spares.give(compiled, new WebAssembly.Memory({ initial: 1, maximum: 2 })); // past max: dropped
    expect(spares.size).toBe(1);
    const again = spares.take(compiled)!;
    expect(again).toBe(used);
    expect(new Uint8Array(again.buffer).every((b) => b === 0)).toBe(true);
    again.grow(1);
    spares.give(compiled, again);
    expect(spares.size).toBe(0);
    expect(spares.reused).toBe(1);
  });

  it('forgets the spares of a module no longer used', () => {
    const spares = new SpareMemories(4);
    spares.give(compiled, spares.take(compiled));
    spares.forget('abc');
    expect(spares.size).toBe(0);
    expect(spares.take(compiled)).toBeDefined(); // a new one
    expect(spares.reused).toBe(0);
  });
});

describe('an evicted agent on a reused memory', () => {
  it('starts fresh: agent_init again, data segments written again, nothing left by the previous instance', async () => {
    const { runtime, deploy, logText } = setup({ maxLiveInstances: 1 });
    const bytes = await counter();
    await deploy('a', bytes);
    await deploy('b', bytes);
    for (const to of ['a', 'b', 'a', 'b']) {
      runtime.deliver(message(to, { performative: 'inform' }), to);
      await runtime.whenIdle();
    }
    expect(runtime.memories.reused).toBeGreaterThanOrEqual(2);
    expect(runtime.live.evicted).toBe(3);
    const fresh = ['init=1', 'junk=0', 'count=8'];
    expect(logText('a')).toEqual([...fresh, ...fresh]);
    expect(logText('b')).toEqual([...fresh, ...fresh]);
  });

  it('does not reuse a memory that grew: a fresh instance has the declared size', async () => {
    const { runtime, deploy } = setup({ maxLiveInstances: 1 });
    const bytes = await counter(true);
    await deploy('a', bytes);
    await deploy('b', bytes);
    for (const to of ['a', 'b']) {
      runtime.deliver(message(to, { performative: 'inform' }), to);
      await runtime.whenIdle();
    }
    expect(runtime.memories.size).toBe(0);
    expect(runtime.stats('b').memory_pages).toBe(4);
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    expect(runtime.memories.reused).toBe(0);
    expect(runtime.stats('a').memory_pages).toBe(4); // 3 declared, grown once by this message
  });
});
