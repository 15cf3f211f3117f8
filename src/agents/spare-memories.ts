// The memories of evicted instances, kept to serve the next instance of the same module: reusing one costs
// zeroing its pages, where a new one costs an address-space reservation that V8 gives back only at a GC
// (memory-import.ts explains why that dominates churn past agents.max_live_instances). A memory is reused
// only at the size it started with: memory.size of a fresh instance must be the module's initial size, and a
// memory cannot shrink. Instantiation then writes the module's data segments into it again, so the agent
// finds what a fresh memory would hold (agent-abi.md: fresh state after eviction, agent_init again).
import type { CompiledAgentModule } from './module-cache.ts';

const PAGE_BYTES = 65_536;
/** The OS page: the unit a memory becomes resident in, so the unit of zeroing. */
const OS_PAGE_BYTES = 4096;
const ZEROS = Buffer.alloc(OS_PAGE_BYTES);

/**
 * Zeroes what the last instance wrote. Filling the whole memory would make every page of it resident (an agent
 * with a 16 MiB memory that touched 100 KiB of it would cost 16 MiB from then on); reading an untouched page
 * maps the kernel's shared zero page instead, so only the pages found dirty are written.
 */
function zero(memory: WebAssembly.Memory): void {
  const bytes = Buffer.from(memory.buffer);
  for (let at = 0; at < bytes.length; at += OS_PAGE_BYTES) {
    if (bytes.compare(ZEROS, 0, OS_PAGE_BYTES, at, at + OS_PAGE_BYTES) !== 0) bytes.fill(0, at, at + OS_PAGE_BYTES);
  }
}

export class SpareMemories {
  readonly #byModule = new Map<CompiledAgentModule, WebAssembly.Memory[]>();
  readonly #max: number;
  #count = 0;
  /** Memories served from the spares (a test and a metric). */
  reused = 0;

  /** `max`: spare memories held across all modules; each still holds its address-space reservation. */
  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#count;
  }

  /**
   * A zeroed memory of the module's initial size for a new instance, a spare one when there is; undefined
   * when the module defines its own memory (it was not rewritten to import it).
   */
  take(compiled: CompiledAgentModule): WebAssembly.Memory | undefined {
    const limits = compiled.importedMemory;
    if (limits === null) return undefined;
    const spare = this.#byModule.get(compiled)?.pop();
    if (spare === undefined) return new WebAssembly.Memory({ initial: limits.initialPages, maximum: limits.maximumPages });
    this.#count--;
    this.reused++;
    zero(spare);
    return spare;
  }

  /** Keeps the memory of an instance that is gone (nothing will run in it again) for the next one. */
  give(compiled: CompiledAgentModule, memory: WebAssembly.Memory | undefined): void {
    const limits = compiled.importedMemory;
    if (memory === undefined || limits === null || this.#count >= this.#max) return;
    if (memory.buffer.byteLength !== limits.initialPages * PAGE_BYTES) return;
    let spares = this.#byModule.get(compiled);
    if (spares === undefined) this.#byModule.set(compiled, (spares = []));
    spares.push(memory);
    this.#count++;
  }

  /** Drops the spares of a module no agent uses any more. */
  forget(sha256: string): void {
    for (const [compiled, spares] of this.#byModule) {
      if (compiled.sha256 !== sha256) continue;
      this.#count -= spares.length;
      this.#byModule.delete(compiled);
    }
  }
}
