// Agent records for the registry tests.
import type { AgentRecord } from '../../../src/cluster/registry/agent-record.ts';

export function recordOf(name: string, node: string, changes: Partial<AgentRecord> = {}): AgentRecord {
  return {
    name,
    node,
    version: 1,
    module_sha256: 'ab'.repeat(32),
    capabilities: ['echo'],
    state: 'running',
    limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 1024 },
    ...changes,
  };
}
