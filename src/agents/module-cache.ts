// Compiled agent modules by the sha256 of the bytes the user deployed: deploying a thousand agents of one
// module compiles it once, and starting an agent is only an instantiation. Concurrent loads of the same
// bytes share one compile.
import { createHash } from 'node:crypto';
import { CaxtonError } from '../errors.ts';
import { WASI_MODULE } from './abi.ts';
import { validateAgentModule } from './module-validator.ts';
import type { WasmInspection } from './wasm-inspect.ts';

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
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const identity: ModuleTransform = (bytes) => bytes;

export class ModuleCache {
  private readonly entries = new Map<string, Promise<CompiledAgentModule>>();
  private readonly transform: ModuleTransform;
  /** Compiles done so far (a test and a metric: deploying one module many times compiles once). */
  compiles = 0;

  constructor(options: { transform?: ModuleTransform } = {}) {
    this.transform = options.transform ?? identity;
  }

  /** The compiled module for these bytes, validating and compiling them on first sight. */
  load(bytes: Uint8Array, sha256 = sha256Hex(bytes)): Promise<CompiledAgentModule> {
    let entry = this.entries.get(sha256);
    if (!entry) {
      entry = this.compile(bytes, sha256);
      this.entries.set(sha256, entry);
      // A failed compile is not cached: the next deploy gets a fresh, equally clear, error.
      entry.catch(() => this.entries.delete(sha256));
    }
    return entry;
  }

  /** A module compiled earlier, or undefined. */
  get(sha256: string): Promise<CompiledAgentModule> | undefined {
    return this.entries.get(sha256);
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  /** Forgets a module (no agent uses it any more); instances already made keep working. */
  evict(sha256: string): void {
    this.entries.delete(sha256);
  }

  get size(): number {
    return this.entries.size;
  }

  private async compile(bytes: Uint8Array, sha256: string): Promise<CompiledAgentModule> {
    const inspection = validateAgentModule(bytes);
    const transformed = await this.transform(bytes);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(transformed as Uint8Array<ArrayBuffer>);
    } catch (err) {
      throw new CaxtonError('INVALID_MODULE', `module does not compile: ${(err as Error).message}`);
    }
    this.compiles++;
    const wasiImports = WebAssembly.Module.imports(module)
      .filter((i) => i.module === WASI_MODULE && i.kind === 'function')
      .map((i) => i.name);
    return { sha256, module, inspection, wasiImports, byteLength: bytes.length };
  }
}
