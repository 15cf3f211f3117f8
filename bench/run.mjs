#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/ one after another (never in parallel: they measure the
// machine) and passes their JSON lines through. `npm run bench -- pingpong` runs only those whose file
// name contains the word.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => !filter || f.includes(filter))
  .sort();
// The benchmarks' temporary files (the data dirs of the nodes they start) go under one directory of this run,
// removed at the end, as a test run's do (test/global-setup.ts): a benchmark may kill its nodes and leave them.
const scratch = mkdtempSync(join(tmpdir(), 'caxton-bench-run-'));
let failed = 0;
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, TMPDIR: scratch },
  });
  if (result.status !== 0) {
    failed++;
    process.stderr.write(`bench: ${file} exited with ${result.status}\n`);
  }
}
rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
