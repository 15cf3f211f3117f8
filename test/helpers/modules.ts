// WebAssembly modules for tests: the built examples (test/global-setup.ts builds them) and WAT fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const repoRoot = new URL('../..', import.meta.url).pathname;

/** Path of a built example agent, e.g. `echo` → examples/build/echo.wasm. */
export function exampleWasm(name: string): string {
  return join(repoRoot, 'examples/build', `${name}.wasm`);
}

export function exampleModule(name: string): Uint8Array {
  return readFileSync(exampleWasm(name));
}

let wabtInstance: Promise<{ parseWat: (name: string, source: string) => { toBinary: (o: object) => { buffer: Uint8Array } } }> | undefined;

/** Compiles a WAT source text to wasm bytes. */
export async function compileWat(source: string, name = 'module.wat'): Promise<Uint8Array> {
  wabtInstance ??= import('wabt').then((m) => (m.default as unknown as () => Promise<any>)());
  const wabt = await wabtInstance;
  return wabt.parseWat(name, source).toBinary({}).buffer;
}

/** Compiles test/fixtures/wat/<name>.wat. */
export async function watFixture(name: string): Promise<Uint8Array> {
  const file = join(repoRoot, 'test/fixtures/wat', `${name}.wat`);
  return compileWat(readFileSync(file, 'utf8'), `${name}.wat`);
}
