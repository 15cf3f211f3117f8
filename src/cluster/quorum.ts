// The quorum rule of cluster.md: quorum = floor(expected / 2) + 1, where expected is --bootstrap-expect or
// else the largest number of alive members seen since the last graceful leave. A side without quorum is
// read-only. A graceful leave shrinks the cluster on purpose, so it resets the high-water mark; a crash
// does not, so the survivors of a partition still count the nodes they cannot see.

export interface QuorumView {
  alive: number;
  expected: number;
  quorum: number;
  mode: 'read-write' | 'read-only';
}

export class QuorumTracker {
  private largestSeen = 0;
  /** --bootstrap-expect until the first graceful leave: from then on the cluster is what the operator left. */
  private bootstrapExpect: number;

  constructor(bootstrapExpect: number) {
    this.bootstrapExpect = bootstrapExpect;
  }

  /** Called with the current alive count after every membership change. */
  observe(alive: number): void {
    if (alive > this.largestSeen) this.largestSeen = alive;
  }

  /** A member left on purpose: the cluster is now as large as what is alive. */
  gracefulLeave(alive: number): void {
    this.largestSeen = alive;
    // Else a 3-node cluster started with --bootstrap-expect 3 would go read-only after two nodes left on purpose.
    this.bootstrapExpect = 0;
  }

  view(alive: number): QuorumView {
    this.observe(alive);
    const expected = this.bootstrapExpect > 0 ? this.bootstrapExpect : this.largestSeen;
    const quorum = Math.floor(expected / 2) + 1;
    return { alive, expected, quorum, mode: alive >= quorum ? 'read-write' : 'read-only' };
  }
}
