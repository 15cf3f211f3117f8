// Compiled agent modules by the sha256 of the bytes the user deployed: deploying a thousand agents of one
// module compiles it once, and starting an agent is only an instantiation. Concurrent loads of the same
// bytes share one compile.
import { createHash } from 'node:crypto';
import { CaxtonError } from '../errors.ts';
import { WASI_MODULE } from './abi.ts';
import { checkMemoryLimit, validateAgentModule } from './module-validator.ts';
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts';
import type { WasmInspection } from './wasm-inspect.ts';
import { sharedFuelInstrumenter } from './metering/shared-instrumenter.ts';
import { clampMemoryMaximum } from './metering/memory-clamp.ts';
import { clampTableMaximums } from './metering/table-clamp.ts';
import { importDefinedMemory } from './metering/memory-import.ts';

/**
 * Rewrites module bytes before compiling (for example fuel instrumentation). Applied once per sha256;
 * validation always sees the user's original bytes, so errors name what the user wrote.
 */
export type ModuleTransform = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface CompiledAgentModule {
  /** sha256 (hex) of the deployed bytes. */
  sha256: string;
  module: WebAssembly.Module;
  /** Of the deployed bytes. */
  inspection: WasmInspection;
  /** The `wasi_snapshot_preview1` function imports of the compiled (possibly transformed) module. */
  wasiImports: string[];
  byteLength: number;
  /** The memory maximum the compiled module declares (pages): the agent's limit or the module's own, lower one. */
  memoryMaxPages: number;
  /**
   * The limits of the memory each instance is handed (the compiled module imports the memory the deployed one
   * defines: see memory-import.ts); null when the module still defines it.
   */
  importedMemory: { initialPages: number; maximumPages: number } | null;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const identity: ModuleTransform = (bytes) => bytes;

const DEFAULT_PAGES = RUNTIME_DEFAULTS.memoryPages;

interface TransformedModule {
  inspection: WasmInspection;
  bytes: Uint8Array;
  /** Of the deployed bytes. */
  byteLength: number;
}

export class ModuleCache {
  /** Validated and transformed (instrumented) bytes by sha256: the expensive step, once per module. */
  private readonly transformed = new Map<string, Promise<TransformedModule>>();
  /** Compiled modules by sha256 and memory limit (the clamp writes the limit into the bytes). */
  private readonly entries = new Map<string, Promise<CompiledAgentModule>>();
  private readonly transform: ModuleTransform;
  private readonly maxTableElements: number;
  /** Compiles done so far (a test and a metric: deploying one module many times compiles once). */
  compiles = 0;

  /**
   * @param options.transform defaults to fuel and memory-growth metering (metering/fuel-instrumenter.ts)
   * @param options.maxTableElements entries all of a module's tables may grow to (agents.max_table_elements;
   *   the deploy check refuses declared minimums above the same bound)
   */
  constructor(options: { transform?: ModuleTransform; maxTableElements?: number } = {}) {
    this.transform = options.transform ?? sharedFuelInstrumenter().transform;
    this.maxTableElements = options.maxTableElements ?? RUNTIME_DEFAULTS.maxTableElements;
  }

  /** A cache that compiles the bytes as deployed: tests and benchmarks of the unmetered baseline. */
  static unmetered(): ModuleCache {
    return new ModuleCache({ transform: identity });
  }

  /**
   * The compiled module for these bytes with its memory maximum clamped to `memoryPages`, validating and
   * transforming them on first sight of the sha256 and compiling on first sight of the pair.
   */
  load(bytes: Uint8Array, sha256 = sha256Hex(bytes), memoryPages: number = DEFAULT_PAGES): Promise<CompiledAgentModule> {
    let transformed = this.transformed.get(sha256);
    if (!transformed) {
      transformed = this.prepare(bytes);
      this.transformed.set(sha256, transformed);
      // A failed transform is not cached: the next deploy gets a fresh, equally clear, error.
      transformed.catch(() => this.transformed.delete(sha256));
    }
    return this.compiled(sha256, transformed, memoryPages);
  }

  /**
   * Takes a module compiled elsewhere in this process (an agent worker gets the main thread's: a
   * WebAssembly.Module posted between threads shares its compiled code, nothing is compiled again).
   */
  adopt(compiled: CompiledAgentModule, memoryPages: number): void {
    this.entries.set(`${compiled.sha256}/${memoryPages}`, Promise.resolve(compiled));
  }

  /** A module seen earlier, compiled for `memoryPages`, or undefined. */
  get(sha256: string, memoryPages: number = DEFAULT_PAGES): Promise<CompiledAgentModule> | undefined {
    const adopted = this.entries.get(`${sha256}/${memoryPages}`);
    if (adopted) return adopted;
    const transformed = this.transformed.get(sha256);
    if (!transformed) return undefined;
    return this.compiled(sha256, transformed, memoryPages);
  }

  has(sha256: string): boolean {
    return this.transformed.has(sha256);
  }

  /** Forgets a module (no agent uses it any more); instances already made keep working. */
  evict(sha256: string): void {
    this.transformed.delete(sha256);
    for (const key of this.entries.keys()) if (key.startsWith(sha256)) this.entries.delete(key);
  }

  /** Distinct modules held. */
  get size(): number {
    return this.transformed.size;
  }

  private async prepare(bytes: Uint8Array): Promise<TransformedModule> {
    const inspection = validateAgentModule(bytes);
    // What the engine refuses is named in the engine's words, before the instrumenter sees it.
    if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) {
      try {
        await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
      } catch (err) {
        throw new CaxtonError('INVALID_MODULE', `module does not compile: ${(err as Error).message}`);
      }
    }
    return { inspection, bytes: await this.transform(bytes), byteLength: bytes.length };
  }

  private compiled(sha256: string, transformed: Promise<TransformedModule>, memoryPages: number): Promise<CompiledAgentModule> {
    const key = `${sha256}/${memoryPages}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.compile(sha256, transformed, memoryPages);
      this.entries.set(key, entry);
      entry.catch(() => this.entries.delete(key));
    }
    return entry;
  }

  private async compile(sha256: string, transformed: Promise<TransformedModule>, memoryPages: number): Promise<CompiledAgentModule> {
    const { inspection, bytes, byteLength } = await transformed;
    checkMemoryLimit(inspection, memoryPages);
    const clamped = clampMemoryMaximum(clampTableMaximums(bytes, this.maxTableElements), memoryPages);
    const imported = importDefinedMemory(clamped.bytes);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile((imported?.bytes ?? clamped.bytes) as Uint8Array<ArrayBuffer>);
    } catch (err) {
      throw new CaxtonError('INVALID_MODULE', `module does not compile: ${(err as Error).message}`);
    }
    this.compiles++;
    const wasiImports = WebAssembly.Module.imports(module)
      .filter((i) => i.module === WASI_MODULE && i.kind === 'function')
      .map((i) => i.name);
    const importedMemory = imported && { initialPages: imported.initialPages, maximumPages: imported.maximumPages };
    return { sha256, module, inspection, wasiImports, byteLength, memoryMaxPages: clamped.maxPages, importedMemory };
  }
}
