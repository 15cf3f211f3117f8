// Who this data dir belongs to. The node id is chosen once, on the first start (the --node-id given, else
// the host name), and stored; later starts get the stored identity back.
//
// A different id on a later start:
// - none asked for (no --node-id / node.id): the stored id wins. A container's host name changes on every
//   restart; the node must not become someone else because of it.
// - a different id asked for explicitly: the request wins and replaces the stored id (the creation time is
//   kept), and `previousNodeId` says what it was so the node can log a warning. Peers then see a new member
//   and the old one leaves by failure detection; agents pinned to the old id must be re-pinned.
import { hostname } from 'node:os';
import type { SqliteDatabase } from './database.ts';

export interface NodeIdentity {
  nodeId: string;
  /** RFC 3339, when this data dir was first used. */
  createdAt: string;
  /** True on the first start of this data dir. */
  created: boolean;
  /** Set when an explicitly requested id replaced a different stored one. */
  previousNodeId?: string;
}

export interface LoadNodeIdentityOptions {
  /** The id asked for (--node-id, CAXTON_NODE_ID, node.id); undefined = stored id, else host name. */
  requestedId?: string;
  /** Injected for tests. */
  hostName?: () => string;
  now?: () => Date;
}

export function loadNodeIdentity(db: SqliteDatabase, options: LoadNodeIdentityOptions = {}): NodeIdentity {
  const now = options.now ?? (() => new Date());
  return db
    .transaction((): NodeIdentity => {
      const stored = db.prepare('SELECT node_id, created_at FROM node_identity WHERE singleton = 1').get() as
        | { node_id: string; created_at: string }
        | undefined;
      if (!stored) {
        const nodeId = options.requestedId ?? (options.hostName ?? hostname)();
        const createdAt = now().toISOString();
        db.prepare('INSERT INTO node_identity (singleton, node_id, created_at) VALUES (1, ?, ?)').run(nodeId, createdAt);
        return { nodeId, createdAt, created: true };
      }
      if (options.requestedId === undefined || options.requestedId === stored.node_id) {
        return { nodeId: stored.node_id, createdAt: stored.created_at, created: false };
      }
      db.prepare('UPDATE node_identity SET node_id = ? WHERE singleton = 1').run(options.requestedId);
      return {
        nodeId: options.requestedId,
        createdAt: stored.created_at,
        created: false,
        previousNodeId: stored.node_id,
      };
    })
    .immediate();
}
