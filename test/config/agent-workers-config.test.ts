// agents.workers and agents.worker_stall_ms: what they accept and what `auto` means.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { agentWorkerCount } from '../../src/node/agent-threads.ts';

describe('agents.workers', () => {
  it('defaults to auto and takes a count (0: agents on the main thread) or auto from env and YAML', () => {
    expect(loadConfig({ env: {} }).agents.workers).toBe('auto');
    expect(loadConfig({ env: { CAXTON_AGENTS_WORKERS: '0' } }).agents.workers).toBe(0);
    expect(loadConfig({ env: { CAXTON_AGENTS_WORKERS: '4' } }).agents.workers).toBe(4);
    expect(loadConfig({ env: { CAXTON_AGENTS_WORKERS: 'auto' } }).agents.workers).toBe('auto');
    const dir = mkdtempSync(join(tmpdir(), 'caxton-workers-'));
    try {
      const file = join(dir, 'caxton.yaml');
      writeFileSync(file, 'agents:\n  workers: 3\n');
      expect(loadConfig({ env: {}, file }).agents.workers).toBe(3);
      writeFileSync(file, 'agents:\n  workers: auto\n');
      expect(loadConfig({ env: {}, file }).agents.workers).toBe('auto');
      // The environment wins over the file.
      expect(loadConfig({ env: { CAXTON_AGENTS_WORKERS: '0' }, file }).agents.workers).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses anything else, naming the key', () => {
    expect(() => loadConfig({ env: { CAXTON_AGENTS_WORKERS: 'many' } })).toThrow(/agents\.workers: expected 'auto' or a number/);
    expect(() => loadConfig({ env: { CAXTON_AGENTS_WORKERS: '-1' } })).toThrow(/agents\.workers/);
  });

  it('auto is the cores the process may use minus one, at least one', () => {
    expect(agentWorkerCount('auto')).toBe(Math.max(1, availableParallelism() - 1));
    expect(agentWorkerCount(3)).toBe(3);
    expect(agentWorkerCount(0)).toBe(0);
  });

  it('worker_stall_ms must exceed max_invocation_ms', () => {
    expect(() => loadConfig({ env: { CAXTON_AGENTS_WORKER_STALL_MS: '1000' } })).toThrow(/agents\.worker_stall_ms: must exceed agents\.max_invocation_ms/);
    expect(loadConfig({ env: { CAXTON_AGENTS_WORKER_STALL_MS: '2000' } }).agents.worker_stall_ms).toBe(2000);
  });
});
