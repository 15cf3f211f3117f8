// Placement candidates read from gossip tags, so every node agrees: draining members and members of an
// incompatible routing protocol are skipped; a Caxton member without a `proto` tag speaks protocol 1.
import { describe, expect, it } from 'vitest';
import { memberProtocol, placementCandidates } from '../../../src/cluster/placement/candidates.ts';

const member = (id: string, tags: Record<string, string>, state = 'alive', isSelf = false) => ({ id, state, tags, isSelf });
const caxton = (extra: Record<string, string> = {}) => ({ caxton: '0.1.0', api: 'x', route: 'r', proto: '1', ...extra });

describe('placement candidates', () => {
  it('skips draining, dead, non-Caxton, route-less and incompatible members', () => {
    const members = [
      member('self', { caxton: '0.1.0', api: 'x', proto: '1' }, 'alive', true),
      member('ok', caxton()),
      member('draining', caxton({ draining: '1' })),
      member('dead', caxton(), 'dead'),
      member('serf', { role: 'web' }),
      member('noroute', { caxton: '0.1.0', api: 'x' }),
      member('adjacent', caxton({ proto: '2' })),
      member('far', caxton({ proto: '3' })),
      member('old', { caxton: '0.0.9', api: 'x', route: 'r' }),
    ];
    expect(placementCandidates(members, 1)).toEqual(['self', 'ok', 'adjacent', 'old']);
    expect(placementCandidates(members.map((m) => (m.id === 'self' ? { ...m, tags: { ...m.tags, draining: '1' } } : m)), 1)).not.toContain('self');
  });

  it('reads the protocol tag; none is protocol 1; garbage is incompatible', () => {
    expect(memberProtocol({ tags: {} })).toBe(1);
    expect(memberProtocol({ tags: { proto: '2' } })).toBe(2);
    expect(memberProtocol({ tags: { proto: 'x' } })).toBe(-1);
  });
});
