// A side without quorum refuses cluster-changing calls with READ_ONLY (503) naming the counts; with quorum,
// or without a cluster, nothing is refused.
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { QuorumTracker } from '../../src/cluster/quorum.ts';
import { requireQuorum } from '../../src/node/quorum-guard.ts';

describe('quorum guard', () => {
  it('read-only below the quorum of the largest cluster seen; read-write again once it is back', () => {
    const q = new QuorumTracker(0);
    q.observe(5);
    expect(() => requireQuorum(q.view(3), 'deploy')).not.toThrow();
    let error: unknown;
    try {
      requireQuorum(q.view(2), 'deploy');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CaxtonError);
    expect(error).toMatchObject({ code: 'READ_ONLY', details: { mode: 'read-only', alive: 2, expected: 5, quorum: 3 } });
    expect((error as Error).message).toMatch(/^deploy refused: this node sees 2 of 5 nodes alive, under the quorum of 3/);
    expect(() => requireQuorum(undefined, 'deploy')).not.toThrow();
    expect(() => requireQuorum(q.view(5), 'stop')).not.toThrow();
  });
});
