// scripts/build-examples.ts: builds every example, skips what is up to date, reports compile errors.
import { mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAssemblyScriptAgent, buildExamples, listExamples } from '../../scripts/build-examples.ts';

const scratch = mkdtempSync(join(tmpdir(), 'caxton-sdk-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('buildExamples', () => {
  it('lists the AssemblyScript, WAT and C examples under their names', () => {
    const names = listExamples().map((e) => `${e.kind}:${e.name}`);
    expect(names).toEqual(expect.arrayContaining([
      'assemblyscript:echo', 'assemblyscript:counter', 'assemblyscript:contract-net-participant', 'wat:wat-echo', 'c:c-echo',
    ]));
  });

  it('rebuilds only what changed', async () => {
    const first = await buildExamples();
    const mtimes = Object.fromEntries(Object.entries(first).map(([name, path]) => [name, statSync(path).mtimeMs]));
    unlinkSync(`${first['wat-echo']}.sha256`); // as if its source had changed
    const started = performance.now();
    const second = await buildExamples();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(second).toEqual(first);
    for (const [name, path] of Object.entries(second)) {
      if (name === 'wat-echo') expect(statSync(path).mtimeMs, name).toBeGreaterThanOrEqual(mtimes[name]);
      else expect(statSync(path).mtimeMs, name).toBe(mtimes[name]);
    }
  });

  it('reports AssemblyScript compile errors with the diagnostics', async () => {
    const entry = join(scratch, 'broken.ts');
    writeFileSync(entry, 'export function handle_message(ptr: i32, len: i32): i32 { return nope; }\n');
    await expect(buildAssemblyScriptAgent(entry, join(scratch, 'broken.wasm'))).rejects.toThrow(/Cannot find name 'nope'/);
  });
});
