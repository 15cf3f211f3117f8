// Which routing protocol versions may talk (rolling upgrades, docs/operations.md): a node accepts a peer whose
// version is within one of its own, so a cluster can move one version at a time with old and new nodes
// side by side. A link between adjacent versions speaks the older one: a newer node adds fields and request
// methods an older one ignores or answers "unknown method", and never changes what an existing frame means.
// Within a version, optional additions are link features: each side lists what it reads in its hello (`f`),
// and a side writes a feature's additions only to a peer that listed it (an older peer lists nothing).

/** How far apart two versions may be and still interoperate. */
export const ROUTING_PROTOCOL_SKEW = 1;

export function protocolCompatible(peer: number, own: number): boolean {
  return Number.isInteger(peer) && Math.abs(peer - own) <= ROUTING_PROTOCOL_SKEW;
}

/** The refusal operators read in both nodes' logs: what each speaks and what to do. */
export function protocolRefusal(peer: number, own: number): string {
  return `routing protocol v${peer} is incompatible with this node's v${own} (accepted: v${own - ROUTING_PROTOCOL_SKEW} to v${own + ROUTING_PROTOCOL_SKEW}); upgrade nodes one version at a time`;
}
