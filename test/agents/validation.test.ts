import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { ModuleCache } from '../../src/agents/module-cache.ts';
import { validateAgentModule } from '../../src/agents/module-validator.ts';
import { inspectWasm, WasmFormatError } from '../../src/agents/wasm-inspect.ts';
import { agentModule, echoAgent, wat } from './fixtures.ts';

function refusal(fn: () => unknown): CaxtonError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CaxtonError);
    expect((err as CaxtonError).code).toBe('INVALID_MODULE');
    return err as CaxtonError;
  }
  throw new Error('expected a refusal');
}

const minimal = (extra = '', memory = '(memory (export "memory") 1)') => `(module
  ${extra}
  ${memory}
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 16))
  (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`;

describe('wasm-inspect', () => {
  it('reads imports, exports, signatures, memory and counts', async () => {
    const bytes = await agentModule(() => ({ init: '(i32.const 0)', timer: '' }));
    const info = inspectWasm(bytes);
    expect(info.imports).toContainEqual({ module: 'caxton', name: 'log', kind: 'function', signature: { params: ['i32', 'i32', 'i32'], results: [] } });
    expect(info.imports.find((i) => i.name === 'now_micros')?.signature).toEqual({ params: [], results: ['i64'] });
    expect(info.exports.find((e) => e.name === 'handle_message')?.signature).toEqual({ params: ['i32', 'i32'], results: ['i32'] });
    expect(info.exports.find((e) => e.name === 'memory')?.kind).toBe('memory');
    expect(info.memory).toEqual({ min: 3, max: null, shared: false, memory64: false, imported: false });
    expect(info.counts.imports).toBe(8);
    expect(info.counts.importedFunctions).toBe(8);
    expect(info.counts.globals).toBe(1);
    expect(info.counts.memories).toBe(1);
    expect(info.counts.exports).toBe(5);
  });

  it('reads an imported memory with a maximum', async () => {
    const info = inspectWasm(await wat('(module (import "env" "memory" (memory 2 10)))'));
    expect(info.memory).toMatchObject({ min: 2, max: 10, imported: true });
  });

  it('turns every truncation of a module into WasmFormatError, never a crash', async () => {
    const bytes = await echoAgent();
    for (let cut = 9; cut < bytes.length; cut += 7) {
      try {
        inspectWasm(bytes.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(WasmFormatError);
      }
    }
    const corrupt = Uint8Array.from(bytes);
    corrupt[9] = 0xff; // the type section's size becomes a huge LEB
    corrupt[10] = 0xff;
    expect(() => inspectWasm(corrupt)).toThrow(WasmFormatError);
  });
});

describe('module validation', () => {
  it('refuses bytes that are not wasm', () => {
    expect(refusal(() => validateAgentModule(new TextEncoder().encode('hello world'))).message).toBe('not a WebAssembly module');
  });

  it('accepts the echo agent and a module importing WASI', async () => {
    validateAgentModule(await echoAgent());
    validateAgentModule(await wat(minimal('(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))')));
  });

  it('names a missing export', async () => {
    const bytes = await wat('(module (memory (export "memory") 1) (func (export "agent_alloc") (param i32) (result i32) (i32.const 0)))');
    const err = refusal(() => validateAgentModule(bytes));
    expect(err.message).toContain('handle_message');
    expect(err.details).toEqual({ export: 'handle_message' });
  });

  it('names an export with the wrong signature', async () => {
    const bytes = await wat(`(module (memory (export "memory") 1)
      (func (export "agent_alloc") (param i64) (result i32) (i32.const 0))
      (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`);
    const err = refusal(() => validateAgentModule(bytes));
    expect(err.message).toContain('agent_alloc has signature (i64) -> i32');
    expect(err.details).toEqual({ export: 'agent_alloc' });
  });

  it('refuses a module without an exported memory, and optional exports with a wrong signature', async () => {
    const noMemory = await wat(minimal('', '(memory 1)'));
    expect(refusal(() => validateAgentModule(noMemory)).details).toEqual({ export: 'memory' });
    const badInit = await wat(minimal('(func (export "agent_init") (param i32) (result i32) (i32.const 0))'));
    expect(refusal(() => validateAgentModule(badInit)).message).toContain('agent_init');
  });

  it('names a foreign import like env.system', async () => {
    const bytes = await wat(minimal('(import "env" "system" (func (param i32) (result i32)))'));
    const err = refusal(() => validateAgentModule(bytes));
    expect(err.message).toContain('env.system');
    expect(err.details).toEqual({ import: 'env.system' });
  });

  it('refuses an unknown caxton import and a caxton import with the wrong signature', async () => {
    const exec = await wat(minimal('(import "caxton" "exec" (func))'));
    expect(refusal(() => validateAgentModule(exec)).message).toContain('caxton.exec');
    const wrong = await wat(minimal('(import "caxton" "log" (func (param i32 i32) (result i32)))'));
    expect(refusal(() => validateAgentModule(wrong)).message).toContain('caxton.log has signature (i32, i32) -> i32');
  });

  it('refuses a memory minimum above the limit, naming both numbers', async () => {
    const bytes = await wat(minimal('', '(memory (export "memory") 300)'));
    const err = refusal(() => validateAgentModule(bytes, { memory_pages: 256 }));
    expect(err.message).toMatch(/300 pages.*256 pages/);
    expect(err.details).toMatchObject({ min_pages: 300, limit_pages: 256 });
  });

  it('compiles once per sha256 and refuses what does not compile', async () => {
    const cache = new ModuleCache();
    const bytes = await echoAgent();
    const [a, b] = await Promise.all([cache.load(bytes), cache.load(bytes)]);
    await cache.load(bytes);
    expect(a).toBe(b);
    expect(cache.compiles).toBe(1);
    // A type error the reader does not look at: only the compiler sees it.
    const invalid = await wat(minimal().replace('(param i32 i32) (result i32) (i32.const 0)', '(param i32 i32) (result i32) (i64.const 0)'));
    await expect(cache.load(invalid)).rejects.toMatchObject({ code: 'INVALID_MODULE', message: expect.stringContaining('does not compile') });
  });
});

