// Fuzzing deploy with mutated WebAssembly modules (the built examples and the hostile fixtures, with bytes
// flipped, inserted, deleted, truncated or LEB lengths stretched): validation must refuse cleanly (a
// CaxtonError naming the problem) or accept, and what it accepts must instrument, compile, instantiate and
// run a message, or be refused cleanly on the way, never crash or hang the process.
//
// Cost per input differs by three orders of magnitude, so the two properties split it: every input goes
// through validation (pure, microseconds: FUZZ_RUNS of them); one input in SAMPLE_EVERY also goes the whole
// way through a real runtime (binaryen instrumentation in its worker, compile, instantiate, agent_init,
// handle_message: milliseconds each).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { validateAgentModule } from '../../src/agents/module-validator.ts';
import { message, setup } from '../agents/fixtures.ts';
import { compileWat, exampleModule, watFixture } from '../helpers/modules.ts';
import { assertInChunks } from './chunked.ts';
import { fuzzParameters, fuzzRuns, fuzzTimeoutMs } from './fuzz-runs.ts';

const SAMPLE_EVERY = 200;
const repoRoot = new URL('../..', import.meta.url).pathname;

const seeds: Uint8Array[] = [];
for (const name of ['echo', 'wat-echo', 'c-echo', 'counter', 'scripted']) {
  try {
    seeds.push(new Uint8Array(exampleModule(name)));
  } catch {
    /* an example not built here (C needs clang): the others still seed */
  }
}
for (const name of ['hostile-spinner', 'hostile-self-flood', 'hostile-memory-hog', 'hostile-start-spinner', 'hostile-slow-fill']) {
  seeds.push(await watFixture(name));
}
// A module with a big code section of many small functions, loops and ifs: where instrumentation works hardest.
seeds.push(new Uint8Array(readFileSync(join(repoRoot, 'examples/build/echo.wasm'))));

type Mutation = { kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'leb'; at: number; byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'leb'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(seed);
  for (const m of mutations) {
    const at = Math.min(bytes.length - 1, Math.floor(m.at * bytes.length));
    if (bytes.length === 0) break;
    switch (m.kind) {
      case 'flip':
        bytes[at] ^= 1 << (m.byte & 7);
        break;
      case 'set':
        bytes[at] = m.byte;
        break;
      case 'insert':
        bytes = Uint8Array.from([...bytes.subarray(0, at), m.byte, ...bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'leb':
        // A LEB128 made to claim more: continuation bits on, as an over-long count or size.
        bytes[at] |= 0x80;
        if (at + 1 < bytes.length) bytes[at + 1] = 0xff;
        break;
    }
  }
  return bytes;
}

const mutated = fc
  .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([i, ms]) => mutate(seeds[i], ms));

/** [start, end) of the code section's contents: mutations there pass validation and reach the engine and binaryen. */
function codeSection(bytes: Uint8Array): [number, number] {
  let at = 8;
  const leb = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return value;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (id === 10) return [at, at + size];
    at += size;
  }
  return [8, bytes.length];
}

const codeMutated = fc
  .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 2 }))
  .map(([i, ms]) => {
    const [start, end] = codeSection(seeds[i]);
    const inCode = ms.map((m) => ({ ...m, kind: m.kind === 'truncate' || m.kind === 'insert' || m.kind === 'delete' ? ('set' as const) : m.kind, at: (start + m.at * (end - start)) / seeds[i].length }));
    return mutate(seeds[i], inCode);
  });

// Valid modules of random structure (nested blocks, loops bounded and not, ifs, branches, memory growth, stores,
// fills, calls, sends, traps): mutated bytes rarely compile, and these are what exercise the instrumentation.
const LIMIT = 64;
type Stmt = fc.Arbitrary<string>;
const k = fc.integer({ min: 0, max: 300 });
const statement: Stmt = fc.letrec<{ stmt: string; body: string }>((tie) => ({
  stmt: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    k.map((n) => `(local.set $x (i32.add (local.get $x) (i32.const ${n})))`),
    k.map((n) => `(i32.store (i32.and (local.get $x) (i32.const 0xfff0)) (i32.const ${n}))`),
    k.map((n) => `(drop (memory.grow (i32.const ${n % 5})))`),
    k.map((n) => `(memory.fill (i32.const 0) (i32.const ${n}) (i32.and (local.get $x) (i32.const 0x7fff)))`),
    k.map((n) => `(local.set $x (call $helper (i32.const ${n})))`),
    k.map((n) => `(drop (call $send (i32.const 0) (i32.const ${n})))`),
    k.map((n) => `(if (i32.eq (local.get $x) (i32.const ${n})) (then (unreachable)))`),
    fc.constant('(loop $spin (br $spin))'),
    fc.tuple(k, tie('body')).map(([n, b]) => `(if (i32.and (local.get $x) (i32.const ${n})) (then ${b}) (else ${b}))`),
    fc.tuple(k, tie('body')).map(([n, b]) => `(block $out (loop $again ${b} (br_if $out (i32.gt_u (local.get $x) (i32.const ${n * 1000}))) (local.set $x (i32.add (local.get $x) (i32.const 1))) (br $again)))`),
    fc.tuple(k, tie('body')).map(([n, b]) => `(block $b ${b} (br_if $b (i32.const ${n & 1})) ${b})`),
  ),
  body: fc.array(tie('stmt'), { maxLength: 4 }).map((ss) => ss.join(' ')),
})).stmt;

const generated = fc.tuple(fc.array(statement, { minLength: 1, maxLength: 6 }), fc.boolean()).map(
  ([stmts, inInit]) => `(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 1 ${LIMIT})
  (func $helper (param $v i32) (result i32) (i32.mul (local.get $v) (i32.const 3)))
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 32768))
  ${inInit ? `(func (export "agent_init") (result i32) (local $x i32) ${stmts[0]} (i32.const 0))` : ''}
  (func (export "handle_message") (param i32 i32) (result i32) (local $x i32) ${stmts.join(' ')} (i32.const 0)))`,
);

describe('fuzz: mutated wasm modules at deploy', () => {
  it('validation refuses with a CaxtonError or accepts; it never throws anything else', async () => {
    let accepted = 0;
    await assertInChunks(
      fc.property(fc.oneof(mutated, codeMutated), (bytes) => {
        try {
          validateAgentModule(bytes);
          accepted++;
        } catch (err) {
          if (!(err instanceof CaxtonError)) throw err;
          expect(err.code).toBe('INVALID_MODULE');
        }
        expect(typeof WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe('boolean');
      }),
      fuzzParameters(),
    );
    console.log(`wasm-modules validation: ${fuzzRuns()} inputs, ${accepted} accepted`);
  }, fuzzTimeoutMs(3));

  const { runtime, deploy } = setup({ limits: { maxInvocationMs: 200 } });
  afterAll(() => runtime.shutdown());

  it(`one input in ${SAMPLE_EVERY} (at least 20) goes through instrumentation, compile, instantiate and a message`, async () => {
    let n = 0;
    const outcomes: Record<string, number> = {};
    await assertInChunks(
      fc.asyncProperty(
        fc.oneof({ arbitrary: mutated.map((b) => ({ b })), weight: 1 }, { arbitrary: codeMutated.map((b) => ({ b })), weight: 1 }, { arbitrary: generated.map((w) => ({ w })), weight: 2 }),
        async (input) => {
        const bytes = 'b' in input ? input.b : await compileWat(input.w);
        const name = `m${n++}`;
        let outcome: string;
        try {
          await deploy(name, bytes, { limits: { memory_pages: 64, fuel: 5_000_000, mailbox: 4 } });
          runtime.deliver(message(name), name);
          await runtime.whenIdle();
          outcome = 'ran';
        } catch (err) {
          if (!(err instanceof CaxtonError)) throw err;
          outcome = `${err.code}: ${err.message.replace(/"m\d+"/, "m*").slice(0, 60)}`;
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (runtime.has(name)) await runtime.remove(name);
      }),
      { ...fuzzParameters(), numRuns: Math.max(20, Math.ceil(fuzzRuns() / SAMPLE_EVERY)) },
    );
    console.log(`wasm-modules full path: ${JSON.stringify(outcomes)}`);
  }, fuzzTimeoutMs(5));
});
