// The rolling upgrade's order and its stops, against a fake cluster: the contacted node goes last; a node is
// undrained only once it came back as a new process and the cluster is healthy; a failing restart command
// stops the upgrade naming the node left drained.
import { describe, expect, it } from 'vitest';
import { rollingUpgrade, type UpgradePorts } from '../../src/cli/rolling-upgrade.ts';

function fakeCluster(options: { failRestart?: string } = {}) {
  const started: Record<string, number> = { a: 1, b: 1, c: 1 };
  const calls: string[] = [];
  let clock = 0;
  const ports: UpgradePorts = {
    async request<T>(method: string, path: string): Promise<T> {
      calls.push(`${method} ${path}`);
      if (path === '/health') return { node: 'a' } as T;
      if (path === '/api/v1/cluster/members') {
        return { members: Object.keys(started).map((id) => ({ id, address: '', state: 'alive', agents: 0, version: '0.2.0', started_at: started[id] })) } as T;
      }
      if (path === '/api/v1/cluster/status') return { health: 'healthy' } as T;
      if (path.endsWith('/drain')) return { node: 'x', moved: 2, owners: {}, pinned: [], failed: [], forwarded: 1, undeliverable: 0, duration_ms: 5 } as T;
      return {} as T;
    },
    async run(command, env) {
      calls.push(`run ${command} ${env.CAXTON_UPGRADE_NODE}`);
      if (env.CAXTON_UPGRADE_NODE === options.failRestart) return 3;
      started[env.CAXTON_UPGRADE_NODE] += 1;
      return 0;
    },
    log: () => {},
    sleep: async () => void (clock += 250),
    now: () => clock,
  };
  return { ports, calls };
}

describe('cluster upgrade', () => {
  it('drains, restarts, waits and undrains each node in turn, the contacted one last', async () => {
    const { ports, calls } = fakeCluster();
    const steps = await rollingUpgrade({ restartCommand: 'restart {node}', timeoutMs: 10_000, version: '0.2.0' }, ports);
    expect(steps.map((s) => s.node)).toEqual(['b', 'c', 'a']);
    const actions = calls.filter((c) => /drain|run /.test(c));
    expect(actions).toEqual([
      'POST /api/v1/cluster/members/b/drain',
      'run restart b b',
      'POST /api/v1/cluster/members/b/undrain',
      'POST /api/v1/cluster/members/c/drain',
      'run restart c c',
      'POST /api/v1/cluster/members/c/undrain',
      'POST /api/v1/node/drain',
      'run restart a a',
      'POST /api/v1/node/undrain',
    ]);
  });

  it('stops at a failed restart, saying which node is left drained', async () => {
    const { ports } = fakeCluster({ failRestart: 'c' });
    await expect(rollingUpgrade({ restartCommand: 'restart {node}', timeoutMs: 10_000 }, ports)).rejects.toThrow(
      /restart command for c exited with 3; c is left drained: .*caxton node undrain --node c/,
    );
  });

  it('times out when a node does not come back as a new process', async () => {
    const { ports } = fakeCluster();
    await expect(rollingUpgrade({ timeoutMs: 1000 }, ports)).rejects.toThrow(/timed out waiting for b to come back/);
  });
});
