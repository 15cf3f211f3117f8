// The per-agent bounds on what the state tool keeps (state.max_keys_per_agent, state.max_bytes_per_agent):
// without them one agent looping batch_store filled the disk the whole node depends on. Both backends keep
// each agent's usage in a row of its own, changed in the same transaction as every write and delete, and
// decide here whether a write may go in.
import { DEFAULTS } from '../../config/defaults.ts';
import { CaxtonError } from '../../errors.ts';

export interface StateQuota {
  /** Keys one agent may keep; 0 = no limit. */
  readonly maxKeys: number;
  /** UTF-8 bytes of key + value JSON text, over all of one agent's keys; 0 = no limit. */
  readonly maxBytes: number;
}

/** One agent's share of the state store, as counted by the quota. */
export interface StateUsage {
  keys: number;
  bytes: number;
}

/** The configured defaults: what a backend opened without a quota gets, so that forgetting one bounds nothing less. */
export const DEFAULT_STATE_QUOTA: StateQuota = { maxKeys: DEFAULTS.state.max_keys_per_agent, maxBytes: DEFAULTS.state.max_bytes_per_agent };

/** How much an entry counts against max_bytes_per_agent: what it takes in the table, rows' overhead aside. */
export function entryBytes(key: string, valueJson: string): number {
  return Buffer.byteLength(key) + Buffer.byteLength(valueJson);
}

/** A write refused because the agent would pass a quota; nothing of it was written. */
export class StateQuotaExceeded extends CaxtonError {
  constructor(agent: string, setting: 'state.max_keys_per_agent' | 'state.max_bytes_per_agent', limit: number, usage: StateUsage, adds: StateUsage) {
    const what = setting === 'state.max_keys_per_agent' ? `${usage.keys + adds.keys} keys` : `${usage.bytes + adds.bytes} bytes`;
    super(
      'QUOTA_EXCEEDED',
      `agent "${agent}" would keep ${what} of state, more than ${setting} (${limit}): it keeps ${usage.keys} keys, ` +
        `${usage.bytes} bytes, and this write adds ${adds.keys} keys, ${adds.bytes} bytes; nothing was written (delete keys, or ask the operator to raise ${setting})`,
      { agent, quota: setting, limit, keys: usage.keys, bytes: usage.bytes, adds_keys: adds.keys, adds_bytes: adds.bytes },
    );
    this.name = 'StateQuotaExceeded';
  }
}

/**
 * The refusal of a write that adds `adds` to `usage`, or null when it fits. A write that does not grow a
 * measure is never refused for it: an agent already past its quota (after an operator's import, or a quota
 * lowered) can still overwrite a value with a smaller one and delete its way back under.
 */
export function quotaRefusal(agent: string, quota: StateQuota, usage: StateUsage, adds: StateUsage): StateQuotaExceeded | null {
  if (quota.maxKeys > 0 && adds.keys > 0 && usage.keys + adds.keys > quota.maxKeys) {
    return new StateQuotaExceeded(agent, 'state.max_keys_per_agent', quota.maxKeys, usage, adds);
  }
  if (quota.maxBytes > 0 && adds.bytes > 0 && usage.bytes + adds.bytes > quota.maxBytes) {
    return new StateQuotaExceeded(agent, 'state.max_bytes_per_agent', quota.maxBytes, usage, adds);
  }
  return null;
}
