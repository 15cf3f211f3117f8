// The C echo (examples/agents/c/echo.c) built with clang for wasm32, when clang and wasm-ld are installed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, repoRoot, wasmClang } from '../../scripts/build-examples.ts';
import { foreignImports } from './mini-host.ts';
import { checkRawEcho } from './raw-echo-checks.ts';

const clang = wasmClang();
if (!clang.ok) {
  console.warn(`\n*** SKIPPING the C echo agent test: ${clang.reason}\n*** (Debian/Ubuntu: apt-get install clang lld)\n`);
}

describe.skipIf(!clang.ok)('echo (C against the raw ABI)', () => {
  it('builds, imports only caxton.send_message and answers request', async () => {
    const bytes = compileC(join(repoRoot, 'examples/agents/c/echo.c'));
    expect(foreignImports(bytes)).toEqual([]);
    await checkRawEcho(bytes);
  });
});
