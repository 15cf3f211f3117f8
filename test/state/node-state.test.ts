import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openNodeState } from '../../src/state/node-state.ts';
import { tempDir } from './helpers.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
let dir: ReturnType<typeof tempDir>;
afterEach(() => dir?.remove());

describe('admin key', () => {
  it('is written once to <data-dir>/admin.key with mode 0600, and stays the same valid key across restarts', () => {
    dir = tempDir();
    const first = openNodeState({ dataDir: dir.path, nodeId: 'n1' });
    expect(first.adminKey.created).toBe(true);
    expect(first.adminKey.path).toBe(join(dir.path, 'admin.key'));
    expect(statSync(first.adminKey.path).mode & 0o777).toBe(0o600);
    const key = readFileSync(first.adminKey.path, 'utf8').trim();
    expect(first.apiKeys.verify(key)).toEqual({ id: 'admin', role: 'admin', via: 'api-key' });
    first.close();

    const second = openNodeState({ dataDir: dir.path, nodeId: 'n1' });
    expect(second.adminKey).toEqual({ path: first.adminKey.path, created: false, key });
    expect(readFileSync(first.adminKey.path, 'utf8').trim()).toBe(key);
    expect(second.apiKeys.verify(key)?.role).toBe('admin');
    expect(second.identity).toMatchObject({ nodeId: 'n1', created: false });
    second.close();
  });

  it('re-registers the key of an existing admin.key when the database was replaced', () => {
    dir = tempDir();
    openNodeState({ dataDir: dir.path }).close();
    const key = readFileSync(join(dir.path, 'admin.key'), 'utf8').trim();
    for (const f of ['caxton.db', 'caxton.db-wal', 'caxton.db-shm']) rmSync(join(dir.path, f), { force: true });
    const state = openNodeState({ dataDir: dir.path });
    expect(state.adminKey.created).toBe(false);
    expect(state.apiKeys.verify(key)?.role).toBe('admin');
    state.close();
  });

  it('writes a new key when admin.key was deleted, and the old one stops working', () => {
    dir = tempDir();
    const first = openNodeState({ dataDir: dir.path });
    const old = first.adminKey.key;
    first.close();
    rmSync(join(dir.path, 'admin.key'));
    const state = openNodeState({ dataDir: dir.path });
    expect(state.adminKey.created).toBe(true);
    expect(state.adminKey.key).not.toBe(old);
    expect(state.apiKeys.verify(old)).toBeNull();
    expect(state.apiKeys.verify(state.adminKey.key)?.role).toBe('admin');
    state.close();
  });

  it('refuses an existing admin.key that is readable by others, as ssh does a key (issue 10: it was accepted)', () => {
    dir = tempDir();
    openNodeState({ dataDir: dir.path }).close();
    const path = join(dir.path, 'admin.key');
    chmodSync(path, 0o644);
    expect(() => openNodeState({ dataDir: dir!.path })).toThrow(`${path}: mode 0644 lets other users read or change the admin key; run: chmod 600 ${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });
});

describe('a node killed with SIGKILL', () => {
  it('finds every committed agent with its spec, state and version; the open transaction left no trace; the file is sound', async () => {
    dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/state/fixtures/sigkill-writer.ts'), dir.path, '40'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe('SIGKILL');
    expect(stdout).toContain('killing');
    const committed = stdout.split('\n').filter((l) => l.startsWith('committed ')).map((l) => l.slice('committed '.length));
    expect(committed).toHaveLength(40);

    const state = openNodeState({ dataDir: dir.path });
    expect(state.database.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(state.database.db.pragma('foreign_key_check')).toEqual([]);
    expect(state.identity.nodeId).toBe('crash-node');
    const agents = state.agents.list();
    expect(agents.map((a) => a.name).sort()).toEqual([...committed].sort());
    for (const agent of agents) {
      const i = Number(agent.name.split('-')[1]);
      expect(agent.state).toBe('running');
      expect(agent.version).toBe(i % 2 === 0 ? 2 : 1);
      expect(agent.spec.limits.fuel).toBe(100 + i);
      expect(agent.spec.capabilities).toEqual(i % 2 === 0 ? [`cap-${i}`, 'upgraded'] : [`cap-${i}`]);
      expect(state.modules.has(agent.module_sha256)).toBe(true);
    }
    // Flushed dead letters survived; the one still buffered at the kill is lost (the documented trade).
    const letters = state.deadLetters.list({ limit: 100 });
    expect(letters).toHaveLength(40);
    expect(letters.some((d) => d.message.message_id === 'buffered')).toBe(false);
    state.close();
  });
});

describe('node identity default', () => {
  it('a new data dir takes the default id given when no id is asked for, and keeps it afterwards', () => {
    dir = tempDir();
    const first = openNodeState({ dataDir: dir.path, defaultNodeId: () => 'host-7947' });
    expect(first.identity).toMatchObject({ nodeId: 'host-7947', created: true });
    first.close();
    const second = openNodeState({ dataDir: dir.path, defaultNodeId: () => 'host-7999' });
    expect(second.identity).toMatchObject({ nodeId: 'host-7947', created: false });
    second.close();
  });
});
