// Once per test run, in the vitest process before any test file: the example agents are built, and every
// temporary file of the run goes under one directory of its own, removed when the run ends. Tests make their
// data dirs with mkdtemp under os.tmpdir() and the nodes they start do the same; without this each run left
// ~400 MB in /tmp (3,500 directories and 4.4 GB after a few days of runs here).
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function setup(): Promise<() => void> {
  const script = new URL('../scripts/build-examples.ts', import.meta.url);
  if (existsSync(script)) {
    const { buildExamples } = (await import(script.href)) as { buildExamples: () => Promise<Record<string, string>> };
    await buildExamples();
  }
  const root = mkdtempSync(join(tmpdir(), 'caxton-run-'));
  // Traversable by other users: the PostgreSQL tests run the server as `postgres` in a directory under it.
  chmodSync(root, 0o755);
  // os.tmpdir() reads TMPDIR at each call; the test processes (forked after this) and everything they
  // spawn inherit it.
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
  };
}
