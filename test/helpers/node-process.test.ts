// The start helper's failure report: a node that does not answer /health in time is killed and the error
// quotes the tail of what it printed (a start that printed nothing says so), so a slow CI start is readable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_START_TIMEOUT_MS, startNode } from './node-process.ts';

/** A stand-in for bin/caxton.mjs that prints `lines` lines and then never listens. */
function silentServer(lines: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'caxton-fake-cli-')), 'fake-caxton.mjs');
  writeFileSync(path, `for (let i = 1; i <= ${lines}; i++) console.error('loading step ' + i);\nsetInterval(() => {}, 1000);\n`);
  return path;
}

describe('startNode on a node that never becomes ready', () => {
  it('the default start timeout is generous', () => {
    expect(NODE_START_TIMEOUT_MS).toBeGreaterThanOrEqual(60_000);
  });

  it('kills it and quotes the tail of its output, naming the node and the timeout', async () => {
    const error = (await startNode({ nodeId: 'slow-start', cli: silentServer(100), readyTimeoutMs: 1_500 }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/node slow-start did not become ready: no \/health answer after \d+ ms \(timeout 1500 ms\); killed/);
    expect(error.message).toContain('last 40 of 100 lines');
    expect(error.message).toContain('loading step 100');
    expect(error.message).toContain('loading step 61');
    expect(error.message).not.toContain('loading step 60\n');
  });

  it('says so when the node printed nothing', async () => {
    const error = (await startNode({ nodeId: 'mute-start', cli: silentServer(0), readyTimeoutMs: 1_000 }).catch((e: Error) => e)) as Error;
    expect(error.message).toContain('printed nothing');
  });

  it('reports an exit with its code and output', async () => {
    const error = (await startNode({ nodeId: 'bad-flag', args: ['--no-such-flag'] }).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/node bad-flag did not become ready: it exited with code [1-9]/);
    expect(error.message).toContain('no-such-flag');
  });
});
