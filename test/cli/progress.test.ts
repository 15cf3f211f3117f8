// Progress on long CLI work: `caxton cluster wait` until a cluster forms (progress lines, then the members),
// and a large `agent deploy` showing its upload on a terminal (the Progress line, driven as on a TTY).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Progress } from '../../src/cli/progress.ts';
import { compileWat } from '../helpers/modules.ts';
import { cliPath, runCli, tempDataDir } from '../helpers/node-process.ts';
import { api, startClusterNode, type ClusterNode } from '../cluster/node/cluster-processes.ts';

let nodes: ClusterNode[] = [];

beforeAll(async () => {
  nodes.push(await startClusterNode('wait-1', ['--bootstrap']));
}, 60_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
});

describe('progress on long CLI work', { timeout: 90_000 }, () => {
  it('cluster wait shows how many nodes are alive until the cluster has formed', async () => {
    const first = nodes[0];
    const token = (await api<{ token: string }>(first, 'POST', '/api/v1/cluster/token', {})).body.token;
    const waiting = runCli(['--server', first.url, '--api-key', first.apiKey(), 'cluster', 'wait', '--nodes', '2', '--timeout', '60']);
    await new Promise((r) => setTimeout(r, 1500));
    nodes.push(await startClusterNode('wait-2', ['--join', `127.0.0.1:${first.gossipPort}`, '--token', token]));
    const result = await waiting;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/waiting for 2 alive nodes: 1 alive \(wait-1\)/);
    expect(result.stderr).toMatch(/waiting for 2 alive nodes: 2 alive/);
    expect(result.stdout).toMatch(/^2 nodes alive: wait-1, wait-2/);
  });

  it('cluster wait gives up with one line and a non-zero exit', async () => {
    const result = await runCli(['--server', nodes[0].url, '--api-key', nodes[0].apiKey(), 'cluster', 'wait', '--nodes', '5', '--timeout', '1']);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n').pop()).toMatch(/2 alive of the 5 nodes waited for after 1 s/);
  });

  it('a large deploy shows its upload and the wait for the node on a terminal (util-linux `script` gives the TTY)', async () => {
    const hasScript = spawnSync('script', ['--version']).status === 0;
    if (!hasScript) {
      console.warn('SKIPPED: `script` (util-linux) is not installed: no pseudo-terminal to run the CLI in');
      return;
    }
    const echo = readFileSync(new URL('../../examples/agents/wat/echo.wat', import.meta.url), 'utf8');
    const big = echo.replace(/\)\s*$/, `(data (i32.const 0) "${'x'.repeat(2 * 1024 * 1024)}"))`).replace('(memory (export "memory") 2)', '(memory (export "memory") 64)');
    const file = join(tempDataDir('caxton-big-'), 'big.wasm');
    writeFileSync(file, await compileWat(big));
    const node = nodes[0];
    const command = `${process.execPath} ${cliPath} --server ${node.url} --api-key ${node.apiKey()} agent deploy ${file} --name big --memory-pages 128`;
    const out = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/uploading .*big\.wasm: [\d.]+ KiB of 2\.7 MiB \(\d+%\)/);
    expect(out).toMatch(/uploading .*: 2\.7 MiB of 2\.7 MiB \(100%\)/);
    expect(out).toMatch(/deployed agent 'big' \(version 1\)/);
    // Not on a terminal: the same deploy prints the result only.
    const piped = await runCli(['--server', node.url, '--api-key', node.apiKey(), 'agent', 'deploy', file, '--name', 'big2', '--memory-pages', '128']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
  });

  it('on a terminal one line is rewritten in place; elsewhere tty-only progress writes nothing', () => {
    let tty = '';
    const onTty = new Progress('tty-only', { write: (t) => void (tty += t), isTTY: true });
    onTty.update('uploading a.wasm: 1.0 MiB of 4.0 MiB (25%)');
    onTty.update('uploading a.wasm: 1.0 MiB of 4.0 MiB (25%)');
    onTty.update('uploading a.wasm: 4.0 MiB of 4.0 MiB (100%)');
    onTty.done();
    expect(tty).toBe('\r\x1b[2Kuploading a.wasm: 1.0 MiB of 4.0 MiB (25%)\r\x1b[2Kuploading a.wasm: 4.0 MiB of 4.0 MiB (100%)\r\x1b[2K');
    let piped = '';
    const offTty = new Progress('tty-only', { write: (t) => void (piped += t), isTTY: false });
    offTty.update('uploading');
    offTty.done();
    expect(piped).toBe('');
  });
});
