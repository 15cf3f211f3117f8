// The last guard of a serving node: an exception thrown from a timer, or a rejection nobody handles, is logged
// (10 lines at once, then one a second) and counted, and the process goes on; Node's default exits on either.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const fixture = new URL('./fixtures/last-resort-throws.ts', import.meta.url).pathname;

describe('the last-resort guard', () => {
  it('logs (rate limited) and counts uncaught exceptions and rejections, and the process lives on', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', fixture], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/caxton_uncaught_errors_total\{kind="exception"\} 30/);
    expect(run.stdout).toMatch(/caxton_uncaught_errors_total\{kind="rejection"\} 30/);
    const lines = (run.stdout + run.stderr).split('\n').filter((l) => l.includes('dropped (a bug'));
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toMatch(/thrown 0|rejected 0/);
  });
});
