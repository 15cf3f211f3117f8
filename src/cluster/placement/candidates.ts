// The nodes placement may choose, the same on every node because it is read from gossip: alive Caxton
// members that accept routing links (this node needs none to itself), not draining (`draining` tag, set by
// `caxton node drain`, a graceful leave or SIGTERM), and speaking a routing protocol this node can talk to.
import { protocolCompatible } from '../routing/protocol-compat.ts';

/** What placement reads of a member (ClusterService.members() rows fit). */
export interface PlacementMember {
  id: string;
  state: string;
  tags: Record<string, string>;
  isSelf: boolean;
}

/** Tag names of Caxton's node meta that placement reads. */
export const PLACEMENT_TAGS = { draining: 'draining', protocol: 'proto' } as const;

export function isDraining(member: Pick<PlacementMember, 'tags'>): boolean {
  return member.tags[PLACEMENT_TAGS.draining] === '1';
}

/**
 * A member without a `proto` tag is a Caxton release from before the tag: it speaks routing protocol 1 (the
 * version it refuses others by), so it counts as that.
 */
export function memberProtocol(member: Pick<PlacementMember, 'tags'>): number {
  const raw = member.tags[PLACEMENT_TAGS.protocol];
  const v = raw === undefined ? 1 : Number(raw);
  return Number.isInteger(v) ? v : -1;
}

export function placementCandidates(members: readonly PlacementMember[], ownProtocol: number): string[] {
  return members
    .filter(
      (m) =>
        m.state === 'alive' &&
        m.tags.caxton !== undefined &&
        (m.isSelf || m.tags.route !== undefined) &&
        !isDraining(m) &&
        (m.isSelf || protocolCompatible(memberProtocol(m), ownProtocol)),
    )
    .map((m) => m.id);
}
