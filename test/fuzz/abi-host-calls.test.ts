// Fuzzing the ABI host calls (agent-abi.md) and the WASI shim with random pointers, lengths, levels, ids and
// memory contents, as a hostile agent would call them: no call may throw (proc_exit excepted, which ends the
// invocation by design), every result is 0, a documented code or a documented value, and no write lands
// outside the range the call was given. Pure layer (an InstanceHost over a plain memory), so 100,000 runs
// take seconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProcExitError, wasiImports } from '../../src/agents/wasi-shim.ts';
import { assertInChunks } from './chunked.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';
import { fuzzHost } from './host-fixture.ts';

const PAGE = 65_536;
/** i32 arguments as wasm hands them to JavaScript: signed, anywhere, with the edges over-represented. */
const i32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, 1, -1, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE - 8, 2 ** 31 - 1, -(2 ** 31)),
  fc.integer({ min: 0, max: 2 * PAGE }),
);

const CAXTON_CALLS = ['send_message', 'log', 'random_fill', 'set_timer', 'cancel_timer', 'agent_name', 'call_tool', 'now_micros'] as const;
const WASI_CALLS = ['fd_write', 'fd_fdstat_get', 'fd_seek', 'fd_close', 'clock_time_get', 'random_get', 'proc_exit', 'path_open', 'environ_get'] as const;
const DOCUMENTED = new Set([0, -1, -2, -3, -4, -5, -6]);

const call = fc.record({
  module: fc.constantFrom('caxton', 'wasi'),
  caxton: fc.constantFrom(...CAXTON_CALLS),
  wasi: fc.constantFrom(...WASI_CALLS),
  args: fc.array(i32, { minLength: 4, maxLength: 4 }),
});

/** Memory contents: zeros, noise, or JSON/tool-call-ish text at an offset the pointers often hit. */
const contents = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 512 }),
  fc.constantFrom(
    '{"performative":"inform","receiver":"bob","content":1}',
    '{"server":"granted","tool":"t","arguments":{}}',
    '{"server":"other","tool":"t"}',
    `{"performative":"inform","receiver":"bob","content":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  ).map((t) => new TextEncoder().encode(t)),
);

describe('fuzz: ABI host calls', () => {
  it('random pointers, lengths and contents never make a host call throw; results are documented', async () => {
    const { host, memory } = fuzzHost(2);
    const caxton = host.caxtonImports() as Record<string, (...args: number[]) => unknown>;
    const names = [...WASI_CALLS];
    const wasi = wasiImports(host, names) as Record<string, (...args: unknown[]) => unknown>;
    await assertInChunks(
      fc.property(fc.array(call, { minLength: 1, maxLength: 8 }), contents, i32, (calls, bytes, at) => {
        const view = new Uint8Array(memory.buffer);
        if (bytes) view.set(bytes.subarray(0, view.length), Math.min(Math.abs(at) % view.length, view.length - Math.min(bytes.length, view.length)));
        for (const { module, caxton: cname, wasi: wname, args } of calls) {
          if (module === 'caxton') {
            const result = caxton[cname](...args);
            if (cname === 'now_micros') expect(typeof result).toBe('bigint');
            else if (cname === 'log') expect(result).toBeUndefined();
            else if (cname === 'set_timer' || cname === 'call_tool') expect(typeof result === 'number' && (result > 0 || DOCUMENTED.has(result))).toBe(true);
            else if (cname === 'agent_name') expect(typeof result === 'number' && (result === 10 || DOCUMENTED.has(result))).toBe(true);
            else expect(DOCUMENTED.has(result as number)).toBe(true);
          } else {
            const wasiArgs: unknown[] = wname === 'clock_time_get' ? [args[0], BigInt(args[1]), args[2]] : args;
            try {
              const result = wasi[wname](...wasiArgs);
              expect(Number.isInteger(result)).toBe(true);
            } catch (err) {
              expect(wname).toBe('proc_exit');
              expect(err).toBeInstanceOf(ProcExitError);
            }
          }
        }
        host.discardEffects();
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs(3));

  it('a call given a range writes inside it and nowhere else', async () => {
    const { host, memory } = fuzzHost(1);
    const caxton = host.caxtonImports() as Record<string, (...args: number[]) => number>;
    await assertInChunks(
      fc.property(fc.constantFrom('random_fill', 'agent_name'), i32, i32, (name, ptr, len) => {
        const view = new Uint8Array(memory.buffer);
        view.fill(0xaa);
        const result = caxton[name](ptr, len);
        const start = ptr >>> 0;
        const end = start + (len >>> 0);
        // agent_name writes its 10 bytes only when they fit in `len`.
        const written = name === 'agent_name' ? (result === 10 && (len >>> 0) >= 10 ? [start, start + 10] : [0, 0]) : result === 0 ? [start, end] : [0, 0];
        for (let i = 0; i < view.length; i += 4093) {
          if (i < written[0] || i >= written[1]) expect(view[i]).toBe(0xaa);
        }
        if (written[0] > 0) expect(view[written[0] - 1]).toBe(0xaa);
        if (written[1] < view.length && written[1] > 0) expect(view[written[1]]).toBe(0xaa);
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs(3));
});
