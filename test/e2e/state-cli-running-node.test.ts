// `caxton state` on the data dir of a running node (real processes): what an operator puts, the agent reads
// at once through call_tool; what the agent stores, `caxton state get`, `export` and `state serve --stdio`
// see. SQLite's WAL lets the CLI and the node share the file.
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

  it('the agent reads what the operator put, and the operator reads what the agent stored', async () => {
    const put = await runCli(['--data-dir', node.dataDir, 'state', 'put', '--agent', 'keeper', 'config', '{"limit": 5}']);
    expect(put.code, put.stderr).toBe(0);
    expect(await call('keeper', 'retrieve', { key: 'config' })).toMatchObject({ outcome: 'inform', result: { structuredContent: { value: { limit: 5 } } } });

    expect(await call('keeper', 'store', { key: 'progress', value: { done: 3 } })).toMatchObject({ outcome: 'inform' });
    const got = await runCli(['--data-dir', node.dataDir, '--output', 'json', 'state', 'get', '--agent', 'keeper', 'progress']);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ done: 3 });
    const exported = await runCli(['--data-dir', node.dataDir, 'state', 'export', '--agent', 'keeper']);
    expect(exported.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { agent: 'keeper', key: 'config', value: { limit: 5 } },
      { agent: 'keeper', key: 'progress', value: { done: 3 } },
    ]);
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
