import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import { FakeCluster, FakeNodeServices } from '../api/fake-services.ts';
import { caxton } from './run.ts';

const services = new FakeNodeServices();
const app = buildApi({ services, cluster: new FakeCluster(), logger: false });
let env: NodeJS.ProcessEnv;
let dir: string;
let wasmFile: string;

beforeAll(async () => {
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  env = { CAXTON_SERVER: server, CAXTON_API_KEY: 'admin-key' };
  dir = await mkdtemp(join(tmpdir(), 'caxton-cli-'));
  wasmFile = join(dir, 'echo.wasm');
  await writeFile(wasmFile, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
});
afterAll(async () => {
  // fetch's pool keeps a spare socket after an aborted stream; do not wait for its keep-alive timeout.
  const closing = app.close();
  app.server.closeAllConnections();
  await closing;
});
beforeEach(() => services.agents.clear());

describe('caxton CLI against a node API', () => {
  it('agent deploy POSTs, and on 409 upgrades in place with PUT', async () => {
    const first = await caxton(['agent', 'deploy', wasmFile, '--name', 'echo', '--capability', 'echo', '--fuel', '5000'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^deployed agent 'echo' \(version 1\) on node node-a\n/);
    expect(services.agents.get('echo')).toMatchObject({ capabilities: ['echo'], limits: { fuel: 5000 } });

    const second = await caxton(['agent', 'deploy', wasmFile, '--name', 'echo', '--output', 'json'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ action: 'upgraded', agent: { name: 'echo', version: 2 } });
  });

  it('agents list as a table and as JSON', async () => {
    await services.deployAgent({ name: 'alpha', capabilities: ['a', 'b'] }, new Uint8Array([1]));
    await services.deployAgent({ name: 'beta', node: 'node-b' }, new Uint8Array([2]));
    const table = await caxton(['agents', 'list'], env);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+NODE\s+STATE\s+VERSION\s+CAPABILITIES\s+MODULE$/);
    expect(lines[1]).toMatch(/^alpha\s+node-a\s+running\s+1\s+a,b\s+[0-9a-f]{12}$/);
    expect(lines).toHaveLength(3);

    const json = await caxton(['--output', 'json', 'agents', 'list', '--by-node'], env);
    expect(Object.keys(JSON.parse(json.stdout).nodes)).toEqual(['node-a', 'node-b']);
  });

  it('message send --wait prints the replies: performative, sender, content', async () => {
    const run = await caxton(
      ['message', 'send', '--to', 'echo', '--performative', 'request', '--content', '{"text":"hi"}', '--wait', '500'],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('inform from echo: {"echo":{"text":"hi"}}');
    expect(services.sent.at(-1)).toMatchObject({ input: { receiver: 'echo', content: { text: 'hi' } }, options: { waitMs: 500 } });
  });

  it('bad --content JSON is a usage error naming --content', async () => {
    const run = await caxton(['message', 'send', '--to', 'echo', '--performative', 'inform', '--content', '{oops'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: option '--content <json>' argument '\{oops' is invalid\. not valid JSON/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a missing agent: one error line, exit code 1', async () => {
    const run = await caxton(['agent', 'inspect', 'ghost'], env);
    expect(run).toEqual({ code: 1, stdout: '', stderr: "error: AGENT_NOT_FOUND: no agent named 'ghost'\n" });
  });

  it('an unreachable server: one error line saying how to start a node, exit code 1', async () => {
    const run = await caxton(['agents', 'list'], { ...env, CAXTON_SERVER: 'http://127.0.0.1:9' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: cannot reach the server at http://127.0.0.1:9 (is a node running? start one with: npm start)\n',
    );
  });

  it('reads the API key from <data-dir>/admin.key when none is given', async () => {
    await writeFile(join(dir, 'admin.key'), 'viewer-key\n');
    const ok = await caxton(['--data-dir', dir, 'agents', 'list'], { CAXTON_SERVER: env.CAXTON_SERVER });
    expect(ok.code).toBe(0);
    const none = await caxton(['--data-dir', join(dir, 'nope'), 'agents', 'list'], { CAXTON_SERVER: env.CAXTON_SERVER });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: UNAUTHENTICATED: .*no API key found/);
  });

  it('queue dead-letters, conversation show, agent delete', async () => {
    await services.deployAgent({ name: 'gone' }, new Uint8Array([1]));
    expect((await caxton(['agent', 'delete', 'gone'], env)).stdout).toBe("deleted agent 'gone'\n");
    expect((await caxton(['conversation', 'show', 'c-known'], env)).stdout).toMatch(/^conversation c-known\s+protocol fipa-request/);
    expect((await caxton(['queue', 'dead-letters', '--purge'], env)).stdout).toBe('purged 0 dead letters\n');
  });

  it('agent logs --follow prints live lines until interrupted', async () => {
    await services.deployAgent({ name: 'talker' }, new Uint8Array([1]));
    services.log('talker', 'old line');
    const interrupt = new AbortController();
    const running = caxton(['agent', 'logs', 'talker', '--follow'], env, { interrupt: interrupt.signal });
    while (services.logListenerCount === 0) await new Promise((r) => setTimeout(r, 5));
    services.log('talker', 'new line');
    await new Promise((r) => setTimeout(r, 50));
    interrupt.abort();
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/INFO\s+old line\n.*INFO\s+new line\n/);
  });

  it('cluster status and members', async () => {
    const status = await caxton(['cluster', 'status'], env);
    expect(status.stdout).toMatch(/^health:\s+degraded\nmode:\s+read-write\nalive:\s+1 of 2 expected\nquorum:\s+2\n$/);
    const members = await caxton(['cluster', 'members'], env);
    expect(members.stdout.split('\n')[2]).toMatch(/^node-b\s+127\.0\.0\.1:7947\s+suspect\s+0\s+0\.1\.0$/);
  });

  it('server start hands exactly the given flags to runServer', async () => {
    let received: Record<string, unknown> | undefined;
    const run = await caxton(
      ['server', 'start', '--bootstrap', '--node-id', 'n1', '--join', 'a:1,b:2', '--data-dir', '/tmp/d', '--insecure-no-auth'],
      {},
      { loadRunServer: async () => async (flags) => void (received = flags) },
    );
    expect(run.code).toBe(0);
    expect(received).toEqual({ bootstrap: true, nodeId: 'n1', join: 'a:1,b:2', dataDir: '/tmp/d', insecureNoAuth: true });
  });

  it('--help on a command says what it does and gives an example; a usage error exits 2', async () => {
    const help = await caxton(['message', 'send', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('send a message to one or more agents');
    expect(help.stdout).toContain('$ caxton message send --to echo');
    const usage = await caxton(['agent', 'deploy', wasmFile], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--name <name>' not specified");
  });
});

describe('the caxton binary', () => {
  const exec = promisify(execFile);
  it('runs through bin/caxton.mjs: --help, and the exit code of a failed command', async () => {
    const help = await exec('node', ['bin/caxton.mjs', '--help']);
    expect(help.stdout).toContain('Usage: caxton');
    const failed = await exec('node', ['bin/caxton.mjs', 'agent', 'inspect', 'ghost'], { env: { ...process.env, ...env } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 1, stderr: "error: AGENT_NOT_FOUND: no agent named 'ghost'\n" });
  });
});
