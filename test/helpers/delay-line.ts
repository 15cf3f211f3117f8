// Builds the delay line (test/helpers/delay-line/main.go): real packet delay for namespace tests on kernels
// without sch_netem (this one has neither netem nor fq). Needs Go's compiler and nothing from the network;
// the binary is built once per test process into a temporary directory.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sourceDir = new URL('./delay-line', import.meta.url).pathname;
export const GO_COMPILER = ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go'].find((p) => existsSync(p));

/** Why the delay line cannot be built here, or null when it can. */
export function delayLineUnavailable(): string | null {
  return GO_COMPILER ? null : 'the Go compiler is not installed (apt-get install golang-go)';
}

let built: Promise<string> | undefined;

export function buildDelayLine(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caxton-delay-line-'));
    const out = join(dir, 'delay-line');
    await run(GO_COMPILER!, ['build', '-o', out, '.'], {
      cwd: sourceDir,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: dir, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
      timeout: 120_000,
    });
    return out;
  })();
  return built;
}
