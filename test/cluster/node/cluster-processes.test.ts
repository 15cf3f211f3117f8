// The cluster start helpers leave no node running when one of the nodes fails to start.
import { describe, expect, it } from 'vitest';
import { startNode } from '../../helpers/node-process.ts';
import { startAllOrStop, startClusterNode, type ClusterNode } from './cluster-processes.ts';

describe('startAllOrStop', { timeout: 120_000 }, () => {
  it('one start fails: the nodes that started (and those started before) are killed, and the failure is rethrown', async () => {
    const up: ClusterNode[] = [];
    const tracked = (id: string) => async (): Promise<ClusterNode> => {
      const node = await startClusterNode(id, ['--bootstrap']);
      up.push(node);
      return node;
    };
    const earlier = await tracked('sc-0')();
    const failing = async (): Promise<ClusterNode> => Object.assign(await startNode({ nodeId: 'sc-bad', args: ['--no-such-flag'] }), { id: 'sc-bad' });
    try {
      const error = await startAllOrStop([tracked('sc-1'), failing, tracked('sc-2')], [earlier]).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/node sc-bad did not become ready: it exited/);
      expect(up.map((n) => n.id).sort()).toEqual(['sc-0', 'sc-1', 'sc-2']);
      // Each has exited already (killed before the failure was rethrown), not left running.
      for (const node of up) expect(node.child.signalCode ?? node.child.exitCode, node.id).toBe('SIGKILL');
    } finally {
      await Promise.all(up.map((n) => n.kill('SIGKILL')));
    }
  });

  it('all start: returns the earlier nodes first, then the new ones', async () => {
    const earlier = await startClusterNode('sa-0', ['--bootstrap']);
    const nodes = await startAllOrStop([() => startClusterNode('sa-1', ['--bootstrap'])], [earlier]);
    try {
      expect(nodes.map((n) => n.id)).toEqual(['sa-0', 'sa-1']);
      expect(nodes.every((n) => n.child.exitCode === null && n.child.signalCode === null)).toBe(true);
    } finally {
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    }
  });
});
