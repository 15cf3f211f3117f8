// Host calls are one wasm instruction each, yet the work behind one can be large (parse 1 MiB, split 16 MiB into
// log lines). That work is charged to the invocation's fuel, so fuel and max_invocation_ms bound it too.
import { describe, expect, it } from 'vitest';
import { message, setup, wat } from './fixtures.ts';

/** handle_message fills memory from 64 KiB on with `fill`, then runs `body` `times` times. */
const agent = (body: string, times: number, fill = 0x20, imports = '') => `(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  ${imports}
  (memory (export "memory") 64)
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_message") (param i32 i32) (result i32) (local $i i32)
    (memory.fill (i32.const 65536) (i32.const ${fill}) (i32.const ${64 * 65536 - 65536}))
    (i32.store8 (i32.const 65536) (i32.const 0x22))
    (loop $l
      ${body}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${times}))))
    (i32.const 0)))`;

async function runOnce(source: string, overrides = {}, options: Parameters<typeof setup>[0] = {}) {
  let lines = 0;
  const env = setup({ ...options, observer: { onLog: () => void lines++ } });
  await env.deploy('a', await wat(source), overrides);
  const started = performance.now();
  env.runtime.deliver(message('a'), 'a');
  await env.runtime.whenIdle();
  return { ms: performance.now() - started, lines, stats: env.runtime.stats('a'), sink: env.sink };
}

describe('host work is metered', () => {
  it('fd_write of megabytes of newlines in one call ends as fuel_exhausted, not millions of log lines', async () => {
    const fdWrite = '(import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))';
    const { lines, stats, sink } = await runOnce(
      agent('(i32.store (i32.const 0) (i32.const 65536)) (i32.store (i32.const 4) (i32.const 3932160)) (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))', 1, 10, fdWrite),
    );
    // Unmetered: 3.9 million lines in one call (16 MiB: 16.7 million lines, 21.8 s).
    expect(stats.traps_by_reason).toEqual({ fuel_exhausted: 1 });
    expect(lines).toBeLessThan(10_000);
    expect(sink.messages[0]).toMatchObject({ performative: 'failure', content: { error: { code: 'AGENT_TRAPPED' } } });
  });

  it('send_message of 1 MiB that is not JSON, in a loop, ends as fuel_exhausted', async () => {
    const { lines, stats } = await runOnce(agent('(drop (call $send (i32.const 65536) (i32.const 1048000)))', 1_000));
    // Unmetered: every call parsed 1 MiB and logged a refusal (50,000 of them held the thread 111 s).
    expect(stats.traps_by_reason).toEqual({ fuel_exhausted: 1 });
    expect(lines).toBeLessThan(100);
  });

  it('log lines cost fuel: a loop of 32 KiB log calls ends as fuel_exhausted', async () => {
    const { lines, stats } = await runOnce(agent('(call $log (i32.const 2) (i32.const 65536) (i32.const 32768))', 20_000));
    expect(stats.traps_by_reason).toEqual({ fuel_exhausted: 1 });
    expect(lines).toBeLessThan(2_000);
  });

  it('host work under a large fuel budget is stopped by max_invocation_ms', async () => {
    const { ms, stats } = await runOnce(
      agent('(drop (call $send (i32.const 65536) (i32.const 1048000)))', 400),
      { limits: { memory_pages: 256, fuel: 1_000_000_000, mailbox: 10 } },
      { limits: { maxInvocationMs: 100 } },
    );
    expect(stats.traps_by_reason).toEqual({ wall_clock_exceeded: 1 });
    expect(ms).toBeLessThan(2_000);
  });
});

describe('WASI imports', () => {
  it('are refused at deploy when their signature is not WASI preview 1, naming the import', async () => {
    const { validateAgentModule } = await import('../../src/agents/module-validator.ts');
    const minimal = (imports: string) => `(module ${imports} (memory (export "memory") 1)
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`;
    // Accepted before: every call then trapped in the shim ("Cannot convert 8 to a BigInt").
    const wrong = await wat(minimal('(import "wasi_snapshot_preview1" "fd_write" (func (param i64 i64 i64 i64) (result i64)))'));
    expect(() => validateAgentModule(wrong)).toThrow(/wasi_snapshot_preview1\.fd_write has signature \(i64, i64, i64, i64\) -> i64/);
    const noErrno = await wat(minimal('(import "wasi_snapshot_preview1" "path_open" (func (param i32) (result i64)))'));
    expect(() => validateAgentModule(noErrno)).toThrow(/path_open.*an errno/);
    const right = await wat(minimal(`(import "wasi_snapshot_preview1" "fd_seek" (func (param i32 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))`));
    expect(() => validateAgentModule(right)).not.toThrow();
  });
});
