// Issue 10's "done when": `npm ci --omit=dev`, then a deploy works. Done without the network: a copy of the
// package (package.json, bin/, src/) whose node_modules holds only the packages package-lock.json does not
// mark `dev` (what `npm ci --omit=dev` installs), each linked to the installed copy. Node resolves our
// sources' imports from the copy, so a runtime import of a dev-only package (binaryen, once) fails here.
// The same production-only node then shows findings 4, 5 and 8 refused through the REST API.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.ts';
import { exampleModule, watFixture } from '../helpers/modules.ts';
import { freePort } from '../helpers/node-process.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; link?: boolean }>;
};

let copy: string;
let child: ChildProcess | undefined;
let output = '';
let url = '';
let key = '';
const { api, deploy } = apiClient(() => ({ url, key }));

/** Top-level packages `npm ci --omit=dev` installs. */
function productionPackages(): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev)
    .map(([path]) => path.slice('node_modules/'.length));
}

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'caxton-omit-dev-'));
  for (const part of ['package.json', 'bin', 'src']) cpSync(join(repoRoot, part), join(copy, part), { recursive: true });
  for (const name of productionPackages()) {
    const installed = join(repoRoot, 'node_modules', name);
    if (!existsSync(installed)) continue; // an optional package for another platform
    mkdirSync(dirname(join(copy, 'node_modules', name)), { recursive: true });
    symlinkSync(installed, join(copy, 'node_modules', name), 'dir');
  }
  expect(existsSync(join(copy, 'node_modules/binaryen'))).toBe(true);
  expect(existsSync(join(copy, 'node_modules/vitest'))).toBe(false);
  const apiPort = await freePort();
  const gossipPort = await freePort();
  const dataDir = join(copy, 'data');
  url = `http://127.0.0.1:${apiPort}`;
  child = spawn(
    process.execPath,
    ['bin/caxton.mjs', 'server', 'start', '--data-dir', dataDir, '--api-addr', `127.0.0.1:${apiPort}`, '--bind-addr', `127.0.0.1:${gossipPort}`, '--node-id', 'omit-dev'],
    { cwd: copy, env: { ...process.env, CAXTON_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node exited: ${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`node did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  key = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a production-only install (npm ci --omit=dev)', () => {
  it('deploys a metered agent and gets its reply', async () => {
    const deployed = await deploy('echo', exampleModule('echo'));
    expect(deployed.status, JSON.stringify(deployed.body) + output).toBe(201);
    const sent = await api('/api/v1/messages?wait_ms=5000', { method: 'POST', json: { performative: 'request', receiver: 'echo', content: { n: 1 } } });
    expect(sent.body.replies[0]).toMatchObject({ performative: 'inform', sender: 'echo' });
  });

  it('refuses fuel and memory above the node ceilings, and the names df and ams, with 400 naming the field', async () => {
    const module = exampleModule('echo');
    const fuel = await deploy('greedy', module, { limits: { fuel: Number.MAX_SAFE_INTEGER } });
    expect(fuel.status).toBe(400);
    expect(fuel.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'limits.fuel' } });
    const memory = await deploy('hog', module, { limits: { memory_pages: 65_536 } });
    expect(memory.status).toBe(400);
    expect(memory.body.error.details).toMatchObject({ field: 'limits.memory_pages' });
    for (const name of ['df', 'ams']) {
      const reserved = await deploy(name, module);
      expect(reserved.status).toBe(400);
      expect(reserved.body.error.message).toMatch(/reserved for a system agent/);
    }
  });

  it('a spinner at the node\'s max fuel holds the node no longer than the wall-clock bound (2x10^10 froze /health 7 s)', async () => {
    expect((await deploy('spinner', await watFixture('hostile-spinner'), { limits: { fuel: 1_000_000_000 } })).status).toBe(201);
    const spun = api('/api/v1/messages?wait_ms=10000', { method: 'POST', json: { performative: 'request', receiver: 'spinner', content: 1 } });
    await new Promise((r) => setTimeout(r, 50));
    const asked = performance.now();
    expect((await fetch(`${url}/health`)).ok).toBe(true);
    // max_invocation_ms is 1 s; the margin covers a slice, a busy machine and the request itself.
    expect(performance.now() - asked).toBeLessThan(3_000);
    const reply = (await spun).body.replies[0];
    expect(reply).toMatchObject({ performative: 'failure', content: { error: { code: 'AGENT_TRAPPED' } } });
    expect(['fuel_exhausted', 'wall_clock_exceeded']).toContain(reply.content.error.details.reason);
  });

  it('refuses content nested 10,000 deep with 400 content: nested deeper than 128', async () => {
    const body = `{"performative":"request","receiver":"echo","content":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const sent = await api('/api/v1/messages?wait_ms=1000', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(sent.status).toBe(400);
    expect(sent.body.error.message).toMatch(/^(content|body): nested deeper than \d+ levels of objects and arrays$/);
    expect((await fetch(`${url}/health`)).ok).toBe(true);
  });
});
