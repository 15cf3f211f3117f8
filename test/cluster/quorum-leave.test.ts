// A graceful leave shrinks the cluster the quorum counts (cluster.md: "expected ... since the last graceful
// leave"), with or without --bootstrap-expect; a crash does not.
import { describe, expect, it } from 'vitest';
import { QuorumTracker } from '../../src/cluster/quorum.ts';

describe('quorum and graceful leave', () => {
  it('a leave resets expected to what is alive; a crash keeps counting the missing node', () => {
    const q = new QuorumTracker(0);
    q.observe(3);
    expect(q.view(2)).toMatchObject({ expected: 3, quorum: 2, mode: 'read-write' }); // a crash
    q.gracefulLeave(2);
    expect(q.view(2)).toMatchObject({ expected: 2, quorum: 2, mode: 'read-write' });
    q.gracefulLeave(1);
    expect(q.view(1)).toMatchObject({ expected: 1, quorum: 1, mode: 'read-write' });
    q.observe(3); // nodes came back (a rolling upgrade re-admits them)
    expect(q.view(3)).toMatchObject({ expected: 3 });
  });

  it('--bootstrap-expect counts until the first graceful leave, then the nodes left on purpose are not missed', () => {
    const q = new QuorumTracker(3);
    q.observe(3);
    expect(q.view(1)).toMatchObject({ expected: 3, mode: 'read-only' }); // two crashed
    q.gracefulLeave(2);
    q.gracefulLeave(1);
    expect(q.view(1)).toMatchObject({ expected: 1, quorum: 1, mode: 'read-write' });
  });
});
