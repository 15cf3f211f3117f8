// Runs a real Caxton node as a child process, the way a user does, for end-to-end and fault tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repoRoot = new URL('../..', import.meta.url).pathname;
export const cliPath = join(repoRoot, 'bin/caxton.mjs');

export { freePort };

/**
 * How long a node may take to answer /health. Generous: on this shared 2-core machine a start has taken over
 * 20 s (no output at all: still loading modules) while other suites ran. Callers use this unless they wait for
 * something slower still.
 */
export const NODE_START_TIMEOUT_MS = 60_000;
/** Lines of the node's output quoted in the error when it does not start. */
const OUTPUT_TAIL_LINES = 40;

export function tempDataDir(prefix = 'caxton-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface NodeProcess {
  url: string;
  dataDir: string;
  apiPort: number;
  gossipPort: number;
  child: ChildProcess;
  apiKey(): string;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartNodeOptions {
  dataDir?: string;
  apiPort?: number;
  gossipPort?: number;
  nodeId?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Default NODE_START_TIMEOUT_MS. */
  readyTimeoutMs?: number;
  /** Another tree's bin/caxton.mjs (e.g. a previous version, for mixed-version tests); default this one. */
  cli?: string;
}

/**
 * Starts a node process and waits for /health. A port freePort() chose can be taken by another process before
 * the node binds it (tests run in parallel): when the helper chose the ports, such a start is retried on new ones.
 */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeProcess> {
  const portsChosenHere = options.apiPort === undefined && options.gossipPort === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNodeOnce(options);
    } catch (error) {
      const raced = portsChosenHere && /EADDRINUSE/.test((error as Error).message) && attempt < 3;
      if (!raced) throw error;
    }
  }
}

async function startNodeOnce(options: StartNodeOptions): Promise<NodeProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const apiPort = options.apiPort ?? (await freePort());
  const gossipPort = options.gossipPort ?? (await freePort());
  const nodeId = options.nodeId ?? `node-${gossipPort}`;
  const args = [
    options.cli ?? cliPath,
    'server',
    'start',
    '--data-dir',
    dataDir,
    '--api-addr',
    `127.0.0.1:${apiPort}`,
    '--bind-addr',
    `127.0.0.1:${gossipPort}`,
    '--node-id',
    nodeId,
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, CAXTON_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${apiPort}`;
  const timeoutMs = options.readyTimeoutMs ?? NODE_START_TIMEOUT_MS;
  const startedAt = Date.now();
  let ready = false;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code ?? -1));
  while (!ready && Date.now() - startedAt < timeoutMs && exitCode === undefined) {
    try {
      // Bounded: a node that accepts the connection but never answers must not hold the start past its timeout.
      ready = (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      // Not listening yet.
    }
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    child.kill('SIGKILL');
    const why = exitCode !== undefined ? `it exited with code ${exitCode}` : `no /health answer after ${Date.now() - startedAt} ms (timeout ${timeoutMs} ms); killed`;
    throw new Error(`node ${nodeId} did not become ready: ${why}\n${outputTail(output)}`);
  }
  return {
    url,
    dataDir,
    apiPort,
    gossipPort,
    child,
    apiKey: () => readFileSync(join(dataDir, 'admin.key'), 'utf8').trim(),
    output: () => output,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The last OUTPUT_TAIL_LINES lines of a node's stdout and stderr, or a line saying it printed nothing. */
export function outputTail(output: string): string {
  const lines = output.trimEnd().split('\n');
  if (output.trim() === '') return '(it printed nothing on stdout or stderr)';
  const cut = lines.length > OUTPUT_TAIL_LINES ? `(last ${OUTPUT_TAIL_LINES} of ${lines.length} lines of its stdout and stderr)\n` : '(its stdout and stderr)\n';
  return cut + lines.slice(-OUTPUT_TAIL_LINES).join('\n');
}

export function hasAdminKey(dataDir: string): boolean {
  return existsSync(join(dataDir, 'admin.key'));
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
