// `caxton state` beside a running node (real processes), through its API (the default, admin only) and
// --offline on its data dir (SQLite's WAL lets the CLI and the node share the file): what an operator puts,
// the agent reads at once through call_tool; what the agent stores, `caxton state get`, `export` and
// `state serve --stdio` see.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.ts';
import { exampleModule } from '../helpers/modules.ts';
import { cliPath, runCli, startNode, type NodeProcess } from '../helpers/node-process.ts';

describe('caxton state beside a running node', () => {
  let node: NodeProcess;
  const { api, deploy } = apiClient(() => ({ url: node.url, key: node.apiKey() }));
  const call = async (agent: string, tool: string, args: Record<string, unknown>) => {
    const { status, body } = await api('/api/v1/messages?wait_ms=15000', {
      method: 'POST',
      json: { performative: 'request', receiver: agent, content: { server: 'state', tool, arguments: args } },
    });
    expect(status).toBe(200);
    return body.replies[0].content as { outcome: string; result?: { structuredContent?: unknown } };
  };

  beforeAll(async () => {
    node = await startNode();
    expect((await deploy('keeper', exampleModule('tool-relay'), { tools: { state: '*' } })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await node?.kill('SIGTERM');
  });

  const viaApi = (...args: string[]) => runCli(['--server', node.url, '--data-dir', node.dataDir, ...args]);

  it('through the API: the agent reads what the operator put, and the operator reads what the agent stored', async () => {
    const put = await viaApi('state', 'put', '--agent', 'keeper', 'config/a b', '{"limit": 5}');
    expect(put.code, put.stderr).toBe(0);
    expect(await call('keeper', 'retrieve', { key: 'config/a b' })).toMatchObject({ outcome: 'inform', result: { structuredContent: { value: { limit: 5 } } } });

    expect(await call('keeper', 'store', { key: 'progress', value: { done: 3 } })).toMatchObject({ outcome: 'inform' });
    const got = await viaApi('--output', 'json', 'state', 'get', '--agent', 'keeper', 'progress');
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ done: 3 });
    expect((await viaApi('--output', 'json', 'state', 'list', '--agent', 'keeper')).stdout).toBe(`${JSON.stringify({ keys: ['config/a b', 'progress'] }, null, 2)}\n`);
    const exported = await viaApi('state', 'export', '--agent', 'keeper');
    expect(exported.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { agent: 'keeper', key: 'config/a b', value: { limit: 5 } },
      { agent: 'keeper', key: 'progress', value: { done: 3 } },
    ]);
    const absent = await viaApi('state', 'get', '--agent', 'keeper', 'nothing');
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/agent keeper has no key "nothing"/);
  });

  it('through the API: import is idempotent and reaches the agent; delete removes', async () => {
    const file = join(node.dataDir, 'import.jsonl');
    writeFileSync(file, Array.from({ length: 1500 }, (_, i) => JSON.stringify({ agent: 'keeper', key: `bulk/${i}`, value: { i } })).join('\n') + '\n');
    const first = await viaApi('--output', 'json', 'state', 'import', file);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 1500, written: 1500, unchanged: 0, skipped: 0 });
    const second = await viaApi('--output', 'json', 'state', 'import', file);
    expect(JSON.parse(second.stdout)).toMatchObject({ read: 1500, written: 0, unchanged: 1500 });
    expect(await call('keeper', 'retrieve', { key: 'bulk/1499' })).toMatchObject({ result: { structuredContent: { value: { i: 1499 } } } });
    expect((await viaApi('state', 'delete', '--agent', 'keeper', 'bulk/0')).code).toBe(0);
    expect((await viaApi('state', 'delete', '--agent', 'keeper', 'bulk/0')).code).toBe(1);
  });

  it('the state routes are admin only', async () => {
    const { body } = await api('/api/v1/security/api-keys', { method: 'POST', json: { name: 'ops', role: 'operator' } });
    const denied = await runCli(['--server', node.url, '--api-key', body.key, 'state', 'get', '--agent', 'keeper', 'progress']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/PERMISSION_DENIED/);
  });

  it('--offline on the running node\'s data dir sees the same values', async () => {
    const got = await runCli(['--data-dir', node.dataDir, '--output', 'json', 'state', '--offline', 'get', '--agent', 'keeper', 'progress']);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ done: 3 });
  });

  it('an MCP client of `caxton state serve --stdio --agent keeper` shares the agent\'s keys', async () => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [cliPath, '--data-dir', node.dataDir, 'state', 'serve', '--stdio', '--agent', 'keeper'],
        env: { PATH: process.env.PATH ?? '' },
        stderr: 'pipe',
      }),
    );
    try {
      const read = await client.callTool({ name: 'retrieve', arguments: { key: 'progress' } });
      expect(read.structuredContent).toEqual({ value: { done: 3 } });
      await client.callTool({ name: 'store', arguments: { key: 'from-mcp', value: 'hello' } });
    } finally {
      await client.close();
    }
    expect(await call('keeper', 'retrieve', { key: 'from-mcp' })).toMatchObject({ result: { structuredContent: { value: 'hello' } } });
  });
});
