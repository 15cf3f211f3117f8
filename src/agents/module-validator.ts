// Deploy-time checks of a module against the ABI (../shared/spec/agent-abi.md): what it imports, what it
// exports, with which signatures, and how much memory it asks for. Every refusal names the offending
// import or export, so the author knows what to fix without reading the runtime.
import { CaxtonError } from '../errors.ts';
import { HOST_IMPORTS, IMPORT_MODULE, OPTIONAL_EXPORTS, REQUIRED_EXPORTS, WASI_IMPORTS, WASI_MODULE } from './abi.ts';
import { RUNTIME_DEFAULTS } from './runtime-defaults.ts';
import type { FuncSignature, WasmInspection } from './wasm-inspect.ts';
import { formatSignature, inspectWasm, looksLikeWasm, WasmFormatError } from './wasm-inspect.ts';

function sameSignature(actual: FuncSignature | undefined, expected: { params: readonly string[]; results: readonly string[] }): boolean {
  if (!actual) return false;
  return (
    actual.params.length === expected.params.length &&
    actual.results.length === expected.results.length &&
    actual.params.every((t, i) => t === expected.params[i]) &&
    actual.results.every((t, i) => t === expected.results[i])
  );
}

function invalid(message: string, details?: Record<string, unknown>): CaxtonError {
  return new CaxtonError('INVALID_MODULE', message, details);
}

/** Reads the module; INVALID_MODULE when it is not wasm or is malformed. */
export function inspectAgentModule(bytes: Uint8Array): WasmInspection {
  if (!looksLikeWasm(bytes)) throw invalid('not a WebAssembly module');
  try {
    return inspectWasm(bytes);
  } catch (err) {
    if (err instanceof WasmFormatError) throw invalid(`malformed WebAssembly module: ${err.message}`, { offset: err.offset });
    throw err;
  }
}

/** Imports and exports against the ABI; throws INVALID_MODULE naming the first problem. */
export function checkAbi(inspection: WasmInspection): void {
  for (const imp of inspection.imports) {
    const qualified = `${imp.module}.${imp.name}`;
    if (imp.module === WASI_MODULE) {
      if (imp.kind !== 'function') throw invalid(`import ${qualified} must be a function`, { import: qualified });
      const shimmed = Object.hasOwn(WASI_IMPORTS, imp.name) ? WASI_IMPORTS[imp.name] : undefined;
      const expected = shimmed ?? { params: imp.signature!.params, results: ['i32'] };
      if (!sameSignature(imp.signature, expected)) {
        throw invalid(`import ${qualified} has signature ${formatSignature(imp.signature!)}, WASI preview 1 says ${shimmed ? formatSignature(expected) : '(...) -> i32 (an errno)'}`, {
          import: qualified,
        });
      }
      continue;
    }
    const expected = imp.module === IMPORT_MODULE ? HOST_IMPORTS[imp.name] : undefined;
    if (!expected || !Object.hasOwn(HOST_IMPORTS, imp.name)) {
      throw invalid(`import ${qualified} is not provided by Caxton (only ${IMPORT_MODULE}.* of the agent ABI and ${WASI_MODULE}.*)`, {
        import: qualified,
      });
    }
    if (imp.kind !== 'function' || !sameSignature(imp.signature, expected)) {
      const got = imp.signature ? formatSignature(imp.signature) : imp.kind;
      throw invalid(`import ${qualified} has signature ${got}, the ABI says ${formatSignature(expected)}`, { import: qualified });
    }
  }

  const exports = new Map(inspection.exports.map((e) => [e.name, e]));
  const memory = exports.get(REQUIRED_EXPORTS.memory);
  if (!memory || memory.kind !== 'memory') {
    throw invalid('missing export memory (the agent must export its linear memory as "memory")', { export: 'memory' });
  }
  if (inspection.memory?.imported) {
    throw invalid('memory must be defined by the module, not imported', { export: 'memory' });
  }
  for (const name of ['agent_alloc', 'handle_message'] as const) {
    const expected = REQUIRED_EXPORTS[name];
    const found = exports.get(name);
    if (!found || found.kind !== 'function') {
      throw invalid(`missing export ${name} ${formatSignature(expected)}`, { export: name });
    }
    if (!sameSignature(found.signature, expected)) {
      throw invalid(`export ${name} has signature ${formatSignature(found.signature!)}, the ABI says ${formatSignature(expected)}`, {
        export: name,
      });
    }
  }
  for (const [name, expected] of Object.entries(OPTIONAL_EXPORTS)) {
    const found = exports.get(name);
    if (!found) continue;
    if (found.kind !== 'function' || !sameSignature(found.signature, expected)) {
      const got = found.signature ? formatSignature(found.signature) : found.kind;
      throw invalid(`export ${name} has signature ${got}, the ABI says ${formatSignature(expected)}`, { export: name });
    }
  }
}

/** A declared minimum above the agent's memory limit is refused at deploy, naming both numbers. */
export function checkMemoryLimit(inspection: WasmInspection, memoryPages: number): void {
  const min = inspection.memory?.min ?? 0;
  if (min > memoryPages) {
    throw invalid(`memory declares a minimum of ${min} pages, above this agent's limit of ${memoryPages} pages (64 KiB each)`, {
      export: 'memory',
      min_pages: min,
      limit_pages: memoryPages,
    });
  }
}

/** How much structure a module may have (config agents.max_*): bounds what one deploy costs the node. */
export interface ModuleStructureLimits {
  max_functions: number;
  max_imports: number;
  max_exports: number;
  max_tables: number;
  max_data_segments: number;
  max_globals: number;
  /** Table entries of all tables together (RUNTIME_DEFAULTS.maxTableElements when absent). */
  max_table_elements?: number;
}

/** Refuses a module with more of something than the node allows, naming both numbers. */
export function checkStructureLimits(inspection: WasmInspection, limits: ModuleStructureLimits): void {
  const c = inspection.counts;
  const checks: [Exclude<keyof ModuleStructureLimits, 'max_table_elements'>, string, number][] = [
    ['max_functions', 'functions', c.functions],
    ['max_imports', 'imports', c.imports],
    ['max_exports', 'exports', c.exports],
    ['max_tables', 'tables', c.tables],
    ['max_data_segments', 'data segments', c.dataSegments],
    ['max_globals', 'globals', c.globals],
  ];
  for (const [key, what, count] of checks) {
    if (count > limits[key]) {
      throw invalid(`module has ${count} ${what}, above this node's limit of ${limits[key]} (agents.${key})`, {
        [what.replace(' ', '_')]: count,
        limit: limits[key],
      });
    }
  }
  if (c.memories > 1) throw invalid(`module has ${c.memories} memories; an agent has exactly one`, { memories: c.memories });
}

/**
 * Tables are memory the agent's memory limit does not count: one module of ten 10,000,000-entry tables took
 * 10 s and 2.9 GB to instantiate, and its second instance killed the process (V8 out of memory). Declared
 * minimums above the bound are refused here; growth past it is stopped by the maximum the compiled module is
 * given (metering/table-clamp.ts).
 */
export function checkTableLimit(inspection: WasmInspection, maxElements: number): void {
  const elements = inspection.counts.tableElements;
  if (elements > maxElements) {
    throw invalid(`module's tables declare ${elements} entries, above this node's limit of ${maxElements} (all tables together)`, {
      table_elements: elements,
      limit: maxElements,
    });
  }
}

/** Everything checkable without compiling: wasm, ABI imports/exports, memory limit, structure limits. */
export function validateAgentModule(bytes: Uint8Array, limits?: { memory_pages: number }, structure?: ModuleStructureLimits): WasmInspection {
  const inspection = inspectAgentModule(bytes);
  checkAbi(inspection);
  if (limits) checkMemoryLimit(inspection, limits.memory_pages);
  if (structure) checkStructureLimits(inspection, structure);
  checkTableLimit(inspection, structure?.max_table_elements ?? RUNTIME_DEFAULTS.maxTableElements);
  return inspection;
}
