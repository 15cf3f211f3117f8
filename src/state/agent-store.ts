// The agents this node keeps: each one's spec, desired state, version and module. Every write is its own
// committed transaction (deploys are rare and must survive a crash the moment the API answered), so a node
// restarted after SIGKILL finds every agent it had acknowledged.
import type { AgentSpec, AgentState } from '../agents/agent-types.ts';
import type { SqliteDatabase } from './database.ts';

/** Versions kept per agent, the current one included: enough to roll back, small enough not to hoard modules. */
export const AGENT_VERSIONS_KEPT = 3;

export interface StoredAgent {
  name: string;
  spec: AgentSpec;
  /** The state the node should bring the agent to after a restart. */
  state: AgentState;
  /** 1 on the first deploy, +1 on each upgrade. */
  version: number;
  module_sha256: string;
  created_at: string;
  updated_at: string;
}

export interface AgentVersion {
  version: number;
  module_sha256: string;
  spec: AgentSpec;
  created_at: string;
}

export interface UpsertAgent {
  spec: AgentSpec;
  /** Must already be in the ModuleStore (a foreign key enforces it). */
  moduleSha256: string;
  /** Defaults to 'deploying'. */
  state?: AgentState;
  /** Set it to adopt a version decided elsewhere (the gossiped registry); otherwise the stored one + 1. */
  version?: number;
}

interface AgentRow {
  name: string;
  spec: string;
  state: string;
  version: number;
  module_sha256: string;
  created_at: string;
  updated_at: string;
}

function fromRow(row: AgentRow): StoredAgent {
  return {
    name: row.name,
    spec: JSON.parse(row.spec) as AgentSpec,
    state: row.state as AgentState,
    version: row.version,
    module_sha256: row.module_sha256,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export class AgentStore {
  private readonly db: SqliteDatabase;
  private readonly now: () => Date;
  private readonly selectOne;
  private readonly selectAll;
  private readonly upsertRow;
  private readonly insertVersion;
  private readonly pruneVersions;
  private readonly selectVersions;
  private readonly updateState;
  private readonly deleteRow;

  constructor(db: SqliteDatabase, now: () => Date = () => new Date()) {
    this.db = db;
    this.now = now;
    this.selectOne = db.prepare('SELECT * FROM agents WHERE name = ?');
    this.selectAll = db.prepare('SELECT * FROM agents ORDER BY name');
    this.upsertRow = db.prepare(
      `INSERT INTO agents (name, spec, state, version, module_sha256, created_at, updated_at)
       VALUES (@name, @spec, @state, @version, @module_sha256, @now, @now)
       ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, state = excluded.state, version = excluded.version,
         module_sha256 = excluded.module_sha256, updated_at = excluded.updated_at`,
    );
    this.insertVersion = db.prepare(
      `INSERT OR REPLACE INTO agent_versions (name, version, module_sha256, spec, created_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.pruneVersions = db.prepare(
      `DELETE FROM agent_versions WHERE name = ? AND version NOT IN
         (SELECT version FROM agent_versions WHERE name = ? ORDER BY version DESC LIMIT ${AGENT_VERSIONS_KEPT})`,
    );
    this.selectVersions = db.prepare(
      'SELECT version, module_sha256, spec, created_at FROM agent_versions WHERE name = ? ORDER BY version DESC',
    );
    this.updateState = db.prepare('UPDATE agents SET state = ?, updated_at = ? WHERE name = ?');
    this.deleteRow = db.prepare('DELETE FROM agents WHERE name = ?');
  }

  get(name: string): StoredAgent | undefined {
    const row = this.selectOne.get(name) as AgentRow | undefined;
    return row && fromRow(row);
  }

  list(): StoredAgent[] {
    return (this.selectAll.all() as AgentRow[]).map(fromRow);
  }

  /** Deploy (version 1) or upgrade (version + 1), recording the version in the history; one transaction. */
  upsert(input: UpsertAgent): StoredAgent {
    return this.db
      .transaction((): StoredAgent => {
        const name = input.spec.name;
        const existing = this.selectOne.get(name) as AgentRow | undefined;
        const version = input.version ?? (existing ? existing.version + 1 : 1);
        const now = this.now().toISOString();
        const spec = JSON.stringify(input.spec);
        this.upsertRow.run({
          name,
          spec,
          state: input.state ?? 'deploying',
          version,
          module_sha256: input.moduleSha256,
          now,
        });
        this.insertVersion.run(name, version, input.moduleSha256, spec, now);
        this.pruneVersions.run(name, name);
        return fromRow(this.selectOne.get(name) as AgentRow);
      })
      .immediate();
  }

  /** False when there is no such agent. */
  setState(name: string, state: AgentState): boolean {
    return this.updateState.run(state, this.now().toISOString(), name).changes === 1;
  }

  /** Newest first; at most AGENT_VERSIONS_KEPT. */
  versions(name: string): AgentVersion[] {
    return (this.selectVersions.all(name) as Array<Omit<AgentVersion, 'spec'> & { spec: string }>).map((row) => ({
      ...row,
      spec: JSON.parse(row.spec) as AgentSpec,
    }));
  }

  /** Deletes the agent and its history (modules stay until ModuleStore.pruneUnused); false when absent. */
  delete(name: string): boolean {
    return this.deleteRow.run(name).changes === 1;
  }
}
