// The main thread compiles each module once and posts the WebAssembly.Module only to the workers that need
// it; these keep that bookkeeping honest: what a worker holds, and what the main thread's cache may drop.
import { CaxtonError } from '../../errors.ts';
import type { CompiledAgentModule, ModuleCache } from '../module-cache.ts';
import { sha256Hex } from '../module-cache.ts';
import type { AgentRecord } from './worker-agent-record.ts';
import type { WorkerHandle } from './worker-handle.ts';

/**
 * Forgets the modules no agent of the worker uses (its runtime dropped them: they are sent again when
 * needed), and evicts from the main thread's cache those no agent uses at all (a restart needs the rest).
 */
export function pruneModules(handle: WorkerHandle, records: ReadonlyMap<string, AgentRecord>, cache: ModuleCache): void {
  const used = new Set<string>();
  for (const name of handle.agents) {
    const record = records.get(name);
    if (record) used.add(record.sha256);
  }
  const dropped = new Set<string>();
  for (const key of handle.modules) {
    const sha256 = key.slice(0, key.indexOf('/'));
    if (!used.has(sha256)) {
      handle.modules.delete(key);
      dropped.add(sha256);
    }
  }
  if (dropped.size === 0) return;
  for (const record of records.values()) dropped.delete(record.sha256);
  for (const sha256 of dropped) cache.evict(sha256);
}

/** The compiled module: from the bytes when sent (checked against their hash), else from the main thread's cache. */
export async function loadModule(cache: ModuleCache, sha256: string, memoryPages: number, bytes?: Uint8Array): Promise<CompiledAgentModule> {
  if (bytes) {
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new CaxtonError('INVALID_ARGUMENT', `module_sha256: ${sha256} does not match the module bytes (${actual})`, { field: 'module_sha256' });
    return cache.load(bytes, sha256, memoryPages);
  }
  const cached = cache.get(sha256, memoryPages);
  if (!cached) throw new CaxtonError('INVALID_MODULE', `module ${sha256} is not known on this node; send its bytes`);
  return cached;
}
