// The minority side of a partition changes nothing cluster-wide (cluster.md "Partitions"): deploy, upgrade,
// delete and lifecycle control are refused with 503 READ_ONLY while this node's side has no quorum, so two
// sides can never each decide something different about the same agent. Reading, messaging and running
// the agents already here go on.
import { CaxtonError } from '../errors.ts';
import type { QuorumView } from '../cluster/quorum.ts';

/** Throws READ_ONLY (503) when `status` says this side has no quorum; nothing without a cluster. */
export function requireQuorum(status: QuorumView | undefined, operation: string): void {
  if (!status || status.mode !== 'read-only') return;
  throw new CaxtonError(
    'READ_ONLY',
    `${operation} refused: this node sees ${status.alive} of ${status.expected} nodes alive, under the quorum of ${status.quorum}; the cluster is read-only on this side until the partition heals`,
    { mode: 'read-only', alive: status.alive, expected: status.expected, quorum: status.quorum },
  );
}
