// Who may do what. Each route declares the one permission it needs; a route that declares none is
// refused (deny by default), so a forgotten declaration fails closed.
import type { Role } from '../node/services.ts';

export type Permission =
  | 'agents:read'
  | 'agents:write'
  | 'messages:send'
  | 'messages:read'
  | 'cluster:read'
  | 'cluster:write'
  | 'dead-letters:read'
  | 'dead-letters:write'
  | 'events:read'
  | 'metrics:read'
  | 'api:read'
  /** The gossip keyring: reading it lists key material, so it is admin's alone. */
  | 'security:keys'
  /** API keys: whoever creates them can mint any role, so only admin may; listing shows who holds access. */
  | 'security:api-keys'
  /** Join tokens: a token lets a machine become a cluster node, so only admin may make one. */
  | 'security:join-tokens'
  /** Agents' state tool values, every agent's: past the grants that bound agents, so admin's alone. */
  | 'state:read'
  | 'state:write'
  /** A backup is the whole database (every module, key hash and the audit log): admin's alone. */
  | 'backup:create'
  /** The audit log: who did what, from where; admin's alone. */
  | 'audit:read';

/** Every role, most powerful first: what a JWT's role claim and an API key's role may name. */
export const ROLES: readonly Role[] = ['admin', 'operator', 'deployer', 'sender', 'viewer'];

/** What viewer may see; every other role sees it too, since acting without seeing is not useful. */
const READ: readonly Permission[] = [
  'agents:read',
  'messages:read',
  'cluster:read',
  'dead-letters:read',
  'events:read',
  'metrics:read',
  'api:read',
];

const GRANTS: Record<Role, ReadonlySet<Permission> | 'all'> = {
  admin: 'all',
  operator: new Set<Permission>([...READ, 'agents:write', 'cluster:write', 'dead-letters:write']),
  deployer: new Set<Permission>([...READ, 'agents:write']),
  sender: new Set<Permission>([...READ, 'messages:send']),
  viewer: new Set<Permission>(READ),
};

export function roleAllows(role: Role, permission: Permission): boolean {
  const grants = GRANTS[role];
  if (grants === undefined) return false;
  return grants === 'all' || grants.has(permission);
}

/** What a route declares in its Fastify `config`. */
export interface RouteAccess {
  /** The permission a principal needs; absent means the route is refused to everyone. */
  permission?: Permission;
  /** Reachable with no credentials at all (health probes). */
  public?: boolean;
  /** Reachable with no credentials from a loopback address (a local Prometheus scraper). */
  publicFromLoopback?: boolean;
  /**
   * How a mutating call is audited (auth.ts): `security` for calls that change who holds access (kept apart
   * from request noise), `count` for the routine message path (one row per caller per window with a count).
   * Absent: one row per call.
   */
  audit?: 'security' | 'count';
}
