// What every node knows about every agent of the cluster (cluster.md "Agent registry"), and the bounds a
// record must keep: records come from peers, so each field is checked before it is believed.

/** An agent's lifecycle state as its node reports it (the runtime's states). */
export const AGENT_STATES = ['deploying', 'running', 'draining', 'stopped', 'failed'] as const;
export type RegistryAgentState = (typeof AGENT_STATES)[number];

export interface AgentRecord {
  name: string;
  /** The node that runs the agent. */
  node: string;
  /** The agent's deploy version on that node (1, then +1 per upgrade). */
  version: number;
  /** Lower-case hex sha256 of the module: where a failover finds the code. */
  module_sha256: string;
  capabilities: string[];
  state: RegistryAgentState;
  /** The node the spec pins the agent to, if any. */
  pinned?: string;
  /** The spec's limits, so a failover can restart the agent elsewhere with the same ceilings. */
  limits: { memory_pages: number; fuel: number; mailbox: number };
  /** Tool grants as `server/tool` or `server/*`. */
  tools?: string[];
  /**
   * The spec's `failover` when it says so: what happens when the node dies (`move`: start on the new owner,
   * `wait`: stay unplaced until the node is back). Absent: `move` unpinned, `wait` pinned.
   */
  failover?: 'move' | 'wait';
}

/** Bounds of one record (the spec's own bounds, src/node/agent-spec.ts, with margin): a peer cannot send more. */
export const RECORD_LIMITS = {
  /** Agent names: messages.md `^[a-z0-9][a-z0-9._-]{0,62}$`. */
  namePattern: /^[a-z0-9][a-z0-9._-]{0,62}$/,
  /** Node ids: memberlist names are free text; 256 bytes is far beyond a host name. */
  maxNodeIdLength: 256,
  /** The spec allows 64 capabilities of at most 128 characters. */
  maxCapabilities: 64,
  maxCapabilityLength: 128,
  /** Tool grants: 256 `server/tool` strings of at most 257 characters (two 128-character names). */
  maxTools: 256,
  maxToolLength: 257,
  maxVersion: 2 ** 32 - 1,
  /** Spec limits are positive safe integers (fuel may be large). */
  maxLimit: Number.MAX_SAFE_INTEGER,
} as const;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Why `record` is not a valid AgentRecord, or undefined when it is. Never throws. */
export function recordProblem(record: AgentRecord): string | undefined {
  const L = RECORD_LIMITS;
  if (typeof record.name !== 'string' || !L.namePattern.test(record.name)) return 'name';
  if (!nodeId(record.node)) return 'node';
  if (!Number.isInteger(record.version) || record.version < 0 || record.version > L.maxVersion) return 'version';
  if (typeof record.module_sha256 !== 'string' || !SHA256_HEX.test(record.module_sha256)) return 'module_sha256';
  if (!stringList(record.capabilities, L.maxCapabilities, L.maxCapabilityLength)) return 'capabilities';
  if (!(AGENT_STATES as readonly string[]).includes(record.state)) return 'state';
  if (record.pinned !== undefined && !nodeId(record.pinned)) return 'pinned';
  const limits = record.limits as unknown;
  if (typeof limits !== 'object' || limits === null) return 'limits';
  for (const key of ['memory_pages', 'fuel', 'mailbox'] as const) {
    const v = record.limits[key];
    if (!Number.isSafeInteger(v) || v < 1 || v > L.maxLimit) return `limits.${key}`;
  }
  if (record.tools !== undefined && !stringList(record.tools, L.maxTools, L.maxToolLength)) return 'tools';
  if (record.failover !== undefined && record.failover !== 'move' && record.failover !== 'wait') return 'failover';
  return undefined;
}

/** A copy holding only the record's own fields (callers may pass richer objects). */
export function copyRecord(record: AgentRecord): AgentRecord {
  const out: AgentRecord = {
    name: record.name,
    node: record.node,
    version: record.version,
    module_sha256: record.module_sha256,
    capabilities: [...record.capabilities],
    state: record.state,
    limits: { memory_pages: record.limits.memory_pages, fuel: record.limits.fuel, mailbox: record.limits.mailbox },
  };
  if (record.pinned !== undefined) out.pinned = record.pinned;
  if (record.tools !== undefined) out.tools = [...record.tools];
  if (record.failover !== undefined) out.failover = record.failover;
  return out;
}

export function sameRecord(a: AgentRecord | undefined, b: AgentRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.name === b.name &&
    a.node === b.node &&
    a.version === b.version &&
    a.module_sha256 === b.module_sha256 &&
    a.state === b.state &&
    a.pinned === b.pinned &&
    a.failover === b.failover &&
    a.limits.memory_pages === b.limits.memory_pages &&
    a.limits.fuel === b.limits.fuel &&
    a.limits.mailbox === b.limits.mailbox &&
    sameList(a.capabilities, b.capabilities) &&
    sameList(a.tools ?? [], b.tools ?? []) &&
    (a.tools === undefined) === (b.tools === undefined)
  );
}

function nodeId(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0 && v.length <= RECORD_LIMITS.maxNodeIdLength;
}

function stringList(v: unknown, maxItems: number, maxLength: number): boolean {
  if (!Array.isArray(v) || v.length > maxItems) return false;
  return v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= maxLength);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
