// Which node owns an agent, computed alike by every node from the same inputs, so placement needs no
// coordinator (cluster.md, Placement): rendezvous (highest-random-weight) hashing. Each (agent, node) pair
// gets a pseudo-random weight and the heaviest node wins; when a node leaves, only its agents move, and
// they spread evenly over the rest.

/** FNV-1a over the UTF-16 code units of both strings, then a 32-bit finaliser so close names spread. */
function weight(agent: string, node: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < agent.length; i++) h = Math.imul(h ^ agent.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193); // a separator, so ("ab","c") and ("a","bc") differ
  for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 0x01000193);
  // murmur3's fmix32: FNV alone leaves the last characters' influence in the low bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The owner of `agent` among `nodes` (any order; duplicates harmless); undefined when there are none.
 * Equal weights are broken by the smaller node id, so the answer never depends on the order given.
 */
export function rendezvousOwner(agent: string, nodes: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const node of nodes) {
    const w = weight(agent, node);
    if (w > bestWeight || (w === bestWeight && best !== undefined && node < best)) {
      best = node;
      bestWeight = w;
    }
  }
  return best;
}
