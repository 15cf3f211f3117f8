// memberlist's util.go formulas, which scale timeouts and retransmissions with the cluster size.

/** Base suspicion timeout: suspicionMult * max(1, log10(n)) * probeInterval (util.go suspicionTimeout). */
export function suspicionTimeout(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // memberlist truncates the scale to whole milliseconds-per-second before multiplying.
  return (suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000;
}

/**
 * How many times a broadcast is sent: retransmitMult * ceil(log10(n + 1)), as in memberlist, except that the
 * scale is at least 2 once there is anyone to send to. Under 10 nodes memberlist's scale is 1: 4 sends to
 * random peers, often spent on peers that knew already, so a member announced by one peer (the node a joiner
 * synced with) missed a node until the next push-pull in 26 of 200 simulated formations of 5 nodes from two
 * halves; with 8 sends, in none (test/cluster/sim/small-cluster-spread.test.ts). From 10 nodes on the scale is
 * memberlist's. Retransmissions are local to each node: peers are not affected.
 */
export function retransmitLimit(retransmitMult: number, n: number): number {
  if (n === 0) return 0;
  return retransmitMult * Math.max(MIN_RETRANSMIT_SCALE, Math.ceil(Math.log10(n + 1)));
}

const MIN_RETRANSMIT_SCALE = 2;

const PUSH_PULL_SCALE_THRESHOLD = 32;

/** Push-pull slows down past 32 nodes so full-state syncs do not saturate the network. */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * Lifeguard: time left on a suspicion after n of the k expected independent confirmations, shrinking
 * logarithmically from max towards min (suspicion.go remainingSuspicionTime).
 */
export function remainingSuspicionTime(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs / 1000 - frac * (maxMs / 1000 - minMs / 1000);
  let timeout = Math.floor(1000 * raw);
  if (timeout < minMs) timeout = minMs;
  return timeout - elapsedMs;
}
