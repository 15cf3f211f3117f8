// Builds every example agent to `<outDir>/<name>.wasm`, skipping those whose sources did not change.
//   examples/agents/<name>/index.ts  → <name>.wasm        (AssemblyScript + sdk/assemblyscript)
//   examples/agents/wat/<name>.wat   → wat-<name>.wasm    (hand-written WebAssembly text, via wabt)
//   examples/agents/c/<name>.c       → c-<name>.wasm      (only when clang with wasm32 and wasm-ld is present)
//   examples/agents/c/<name>.wasi.c  → c-<name>.wasm      (wasi-libc reactor; only when the WASI sysroot is present)
// Everything compiles in this one process, one module at a time (the machine has two cores shared by tests).
// Runnable: `npx tsx scripts/build-examples.ts [outDir]`.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import wabtInit from 'wabt';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sdkDir = join(repoRoot, 'sdk/assemblyscript');
const examplesDir = join(repoRoot, 'examples/agents');
/** The AssemblyScript flags live in one place, used by this script, the tests and the docs alike. */
export const ascConfig = join(sdkDir, 'asconfig.json');

/** Bump to force a rebuild of everything after a change to how this script builds. */
const BUILDER_VERSION = '1';

/** Flags for C agents against the raw ABI: no libc, no entry point, exactly the ABI exports. */
export const C_FLAGS = [
  '--target=wasm32', '-O2', '-nostdlib', '-mbulk-memory',
  '-Wl,--no-entry', '-Wl,--export=agent_alloc', '-Wl,--export=handle_message', '-Wl,--strip-all',
];

/** Flags for C agents on wasi-libc: a reactor (no main; `_initialize` runs libc's constructors). */
export const WASI_C_FLAGS = ['--target=wasm32-wasi', '-mexec-model=reactor', '-O2', '-Wl,--strip-all'];

const isWasiC = (file: string): boolean => file.endsWith('.wasi.c');
const cFlagsFor = (file: string): string[] => (isWasiC(file) ? WASI_C_FLAGS : C_FLAGS);

type Kind = 'assemblyscript' | 'wat' | 'c';
interface ExampleSource { name: string; kind: Kind; entry: string; inputs: string[] }

function filesUnder(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full, ext));
    else if (entry.name.endsWith(ext)) out.push(full);
  }
  return out.sort();
}

/** Every SDK source an AssemblyScript agent may compile in (its own test probes excluded). */
function sdkSources(): string[] {
  const probes = join(sdkDir, 'tests') + sep;
  return [...filesUnder(sdkDir, '.ts').filter((f) => !f.startsWith(probes)), ascConfig];
}

export function listExamples(): ExampleSource[] {
  const examples: ExampleSource[] = [];
  if (!existsSync(examplesDir)) return examples;
  for (const entry of readdirSync(examplesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(examplesDir, entry.name);
    if (entry.name === 'wat') {
      for (const file of filesUnder(dir, '.wat')) {
        examples.push({ name: `wat-${basename(file, '.wat')}`, kind: 'wat', entry: file, inputs: [file] });
      }
    } else if (entry.name === 'c') {
      for (const file of filesUnder(dir, '.c')) {
        examples.push({ name: `c-${basename(file).replace(/(\.wasi)?\.c$/, '')}`, kind: 'c', entry: file, inputs: [file] });
      }
    } else if (existsSync(join(dir, 'index.ts'))) {
      examples.push({
        name: entry.name, kind: 'assemblyscript', entry: join(dir, 'index.ts'),
        inputs: [...filesUnder(dir, '.ts'), ...sdkSources()],
      });
    }
  }
  return examples.sort((a, b) => a.name.localeCompare(b.name));
}

// The AssemblyScript compiler runs in a worker thread without tsx's loader: under tsx, importing it (and
// binaryen, 13 MB of JS) takes 5–13 s instead of 0.4 s. One worker compiles every module of a build.
const ASC_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { existsSync, readFileSync, statSync } = require('node:fs');
const { isAbsolute, join, resolve } = require('node:path');
const ready = import(workerData.ascUrl).then((m) => m.default);
parentPort.on('message', async ({ id, args }) => {
  try {
    const asc = await ready;
    let binary = null;
    let stderr = '';
    const result = await asc.main(args, {
      readFile: (name, baseDir) => {
        const file = isAbsolute(name) ? name : join(resolve(workerData.root, baseDir), name);
        return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : null;
      },
      writeFile: (name, contents) => { if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents; },
      listFiles: () => [],
      stdout: { write: () => true },
      stderr: { write: (s) => { stderr += String(s); return true; } },
    });
    const error = result.error ? result.error.message + '\\n' + stderr : binary ? null : 'no output\\n' + stderr;
    parentPort.postMessage({ id, binary: error ? null : binary, error });
  } catch (err) {
    parentPort.postMessage({ id, binary: null, error: String(err && err.stack || err) });
  }
});
`;

/** Compiles AssemblyScript agents with the SDK's flags (asconfig.json). Call close() when done. */
export class AscCompiler {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  private start(): Worker {
    const ascUrl = pathToFileURL(join(repoRoot, 'node_modules/assemblyscript/dist/asc.js')).href;
    const worker = new Worker(ASC_WORKER, { eval: true, execArgv: [], workerData: { ascUrl, root: repoRoot } });
    worker.on('message', ({ id, binary, error }: { id: number; binary: Uint8Array | null; error: string | null }) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (!waiter) return;
      if (binary) waiter.resolve(binary);
      else waiter.reject(new Error(error ?? 'asc failed'));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`asc worker exited with ${code}`)));
    return worker;
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
    this.worker = undefined;
  }

  /** Compiles `entry` (path of an AssemblyScript file) to wasm bytes; rejects with asc's diagnostics. */
  compile(entry: string): Promise<Uint8Array> {
    this.worker ??= this.start();
    const id = this.nextId++;
    const args = [relative(repoRoot, entry), '--config', relative(repoRoot, ascConfig), '--outFile', 'agent.wasm'];
    return new Promise<Uint8Array>((resolvePromise, reject) => {
      this.pending.set(id, {
        resolve: resolvePromise,
        reject: (err) => reject(new Error(`asc failed for ${relative(repoRoot, entry)}: ${err.message}`)),
      });
      this.worker!.postMessage({ id, args });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

/** Compiles one AssemblyScript agent (a worker for just this module; use AscCompiler for several). */
export async function compileAssemblyScript(entry: string): Promise<Uint8Array> {
  const compiler = new AscCompiler();
  try {
    return await compiler.compile(entry);
  } finally {
    await compiler.close();
  }
}

let wabtModule: ReturnType<typeof wabtInit> | undefined;

export async function compileWat(file: string): Promise<Uint8Array> {
  wabtModule ??= wabtInit();
  const wabt = await wabtModule;
  const mod = wabt.parseWat(basename(file), readFileSync(file, 'utf8'));
  try {
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

let clangProbe: { ok: true; version: string } | { ok: false; reason: string } | undefined;

/** Whether `clang` (or $CLANG) can build wasm32 modules here: compiles and links a one-line probe once. */
export function wasmClang(): { ok: true; version: string } | { ok: false; reason: string } {
  if (clangProbe) return clangProbe;
  const clang = process.env.CLANG ?? 'clang';
  const dir = mkdtempSync(join(tmpdir(), 'caxton-clang-'));
  try {
    const version = execFileSync(clang, ['--version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0];
    writeFileSync(join(dir, 'probe.c'), 'int probe(int x) { return x + 1; }\n');
    execFileSync(clang, ['--target=wasm32', '-nostdlib', '-Wl,--no-entry', '-Wl,--export=probe', '-o',
      join(dir, 'probe.wasm'), join(dir, 'probe.c')], { stdio: 'pipe', timeout: 30_000 });
    clangProbe = { ok: true, version };
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    clangProbe = { ok: false, reason: `${clang} cannot build wasm32 (install clang and lld): ${detail.split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return clangProbe;
}

let wasiProbe: { ok: true } | { ok: false; reason: string } | undefined;

/** Whether clang can also build wasi-libc reactors here (the WASI sysroot and wasm32 compiler-rt installed). */
export function wasiClang(): { ok: true } | { ok: false; reason: string } {
  if (wasiProbe) return wasiProbe;
  const clang = wasmClang();
  if (!clang.ok) return (wasiProbe = clang);
  const dir = mkdtempSync(join(tmpdir(), 'caxton-wasi-'));
  try {
    writeFileSync(join(dir, 'probe.c'), '#include <stdio.h>\nint probe(void) { return printf("x\\n"); }\n');
    execFileSync(process.env.CLANG ?? 'clang', [...WASI_C_FLAGS, '-o', join(dir, 'probe.wasm'), join(dir, 'probe.c')], { stdio: 'pipe', timeout: 30_000 });
    wasiProbe = { ok: true };
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    wasiProbe = { ok: false, reason: `clang cannot build wasm32-wasi reactors (install wasi-libc and libclang-rt-14-dev-wasm32): ${detail.split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return wasiProbe;
}

export function compileC(file: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-c-'));
  try {
    const out = join(dir, 'agent.wasm');
    execFileSync(process.env.CLANG ?? 'clang', [...cFlagsFor(file), '-o', out, file], { stdio: 'pipe', timeout: 60_000 });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sourceHash(example: ExampleSource, toolVersion: string): string {
  const hash = createHash('sha256').update(`${BUILDER_VERSION}\0${example.kind}\0${toolVersion}\0`);
  if (example.kind === 'c') hash.update(cFlagsFor(example.entry).join(' '));
  for (const file of example.inputs) hash.update(relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function toolVersion(kind: Kind): string {
  const pkg = (name: string) => (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  if (kind === 'assemblyscript') return pkg('assemblyscript');
  if (kind === 'wat') return pkg('wabt');
  const clang = wasmClang();
  return clang.ok ? clang.version : 'none';
}

/** Writes via a temporary file and rename, so parallel builders never expose a half-written module. */
function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Writes `example` to `wasmPath` unless the hash of its sources says the file there is already current. */
async function buildOne(example: ExampleSource, wasmPath: string, compiler: AscCompiler): Promise<void> {
  const hashPath = `${wasmPath}.sha256`;
  const hash = sourceHash(example, toolVersion(example.kind));
  if (existsSync(wasmPath) && existsSync(hashPath) && readFileSync(hashPath, 'utf8') === hash) return;
  const bytes = example.kind === 'assemblyscript' ? await compiler.compile(example.entry)
    : example.kind === 'wat' ? await compileWat(example.entry)
      : compileC(example.entry);
  mkdirSync(dirname(wasmPath), { recursive: true });
  writeAtomic(wasmPath, bytes);
  writeAtomic(hashPath, hash);
}

/**
 * Builds the AssemblyScript agent whose entry is `entry` (its folder's .ts files and the SDK are its sources)
 * to `wasmPath`, unless already current. For test agents that are not examples.
 */
export async function buildAssemblyScriptAgent(entry: string, wasmPath: string): Promise<string> {
  const example: ExampleSource = {
    name: basename(wasmPath, '.wasm'), kind: 'assemblyscript', entry,
    inputs: [...filesUnder(dirname(entry), '.ts'), ...sdkSources()],
  };
  const compiler = new AscCompiler();
  try {
    await buildOne(example, wasmPath, compiler);
  } finally {
    await compiler.close();
  }
  return wasmPath;
}

/**
 * Builds every example (see the header) into `outDir` (relative paths are taken from the repository root)
 * and returns {name: absolute path of the .wasm}. C examples are left out, with a warning, when no wasm32
 * clang is installed.
 */
export async function buildExamples(outDir = 'examples/build'): Promise<Record<string, string>> {
  const dir = resolve(repoRoot, outDir);
  const built: Record<string, string> = {};
  const compiler = new AscCompiler();
  try {
    for (const example of listExamples()) {
      if (example.kind === 'c') {
        const clang = isWasiC(example.entry) ? wasiClang() : wasmClang();
        if (!clang.ok) {
          console.warn(`build-examples: skipping ${example.name}: ${clang.reason}`);
          continue;
        }
      }
      const wasmPath = join(dir, `${example.name}.wasm`);
      await buildOne(example, wasmPath, compiler);
      built[example.name] = wasmPath;
    }
  } finally {
    await compiler.close();
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const built = await buildExamples(process.argv[2]);
  for (const [name, path] of Object.entries(built)) {
    console.log(`${name.padEnd(28)} ${String(statSync(path).size).padStart(7)} B  ${relative(process.cwd(), path)}`);
  }
  console.log(`built in ${Math.round(performance.now() - started)} ms`);
  // `npm ci` runs this script (package.json `prepare`): the web console is built here too.
  const { buildConsole } = await import('./build-console.ts');
  const console_ = await buildConsole();
  console.log(`console built into ${relative(process.cwd(), console_.dir)} (${Object.keys(console_.files).length} files)`);
}
