// Everything a node keeps on disk, opened together: the database, its identity and the stores. The node
// calls openNodeState once at start and close() once at stop (which flushes the buffered logs).
import type { Config } from '../config/config.ts';
import { DEFAULTS } from '../config/defaults.ts';
import { AgentStore } from './agent-store.ts';
import { ApiKeyStore, ensureAdminKey, type AdminKeyResult } from './api-key-store.ts';
import { AuditLog } from './audit-log.ts';
import { openDatabase, type Database } from './database.ts';
import { DeadLetterStore } from './dead-letter-store.ts';
import { ModuleStore } from './module-store.ts';
import { loadNodeIdentity, type NodeIdentity } from './node-identity.ts';

export interface NodeStateOptions {
  dataDir: string;
  /** config.node.id: undefined keeps the stored id (else `defaultNodeId`). */
  nodeId?: string;
  /** The id of a new data dir when none is asked for; the host name when absent. */
  defaultNodeId?: () => string;
  /** config.state; defaults from config/defaults.ts. */
  limits?: Partial<Config['state']>;
  /** A timer-driven flush failed and its rows were dropped (the node logs it). */
  onFlushError?(store: string, error: unknown, dropped: number): void;
}

export interface NodeState {
  readonly database: Database;
  readonly identity: NodeIdentity;
  readonly adminKey: AdminKeyResult;
  readonly modules: ModuleStore;
  readonly agents: AgentStore;
  readonly apiKeys: ApiKeyStore;
  readonly audit: AuditLog;
  readonly deadLetters: DeadLetterStore;
  /** Flushes the buffered stores, checkpoints the WAL and closes. */
  close(): void;
}

export function openNodeState(options: NodeStateOptions): NodeState {
  const limits = { ...DEFAULTS.state, ...options.limits };
  const database = openDatabase(options.dataDir);
  try {
    const { db } = database;
    const batch = (store: string) => ({
      flushIntervalMs: limits.flush_interval_ms,
      maxBatch: limits.flush_max_rows,
      onError: (error: unknown, dropped: number) => options.onFlushError?.(store, error, dropped),
    });
    const identity = loadNodeIdentity(db, { requestedId: options.nodeId, ...(options.defaultNodeId ? { hostName: options.defaultNodeId } : {}) });
    const apiKeys = new ApiKeyStore(db);
    const adminKey = ensureAdminKey(options.dataDir, apiKeys);
    return {
      database,
      identity,
      adminKey,
      modules: new ModuleStore(db),
      agents: new AgentStore(db),
      apiKeys,
      audit: new AuditLog(database, {
        maxRows: limits.audit_max_rows,
        maxDenialRows: limits.audit_denial_max_rows,
        maxSecurityRows: limits.audit_security_max_rows,
        maxAgeMs: limits.audit_max_age_ms,
        maxSecurityAgeMs: limits.audit_security_max_age_ms,
        ...batch('audit'),
      }),
      deadLetters: new DeadLetterStore(database, {
        maxRows: limits.dead_letters_max,
        maxPerSender: limits.dead_letters_per_sender,
        maxBytes: limits.dead_letters_max_bytes,
        ...batch('dead_letters'),
      }),
      close: () => database.close(),
    };
  } catch (error) {
    database.close();
    throw error;
  }
}
