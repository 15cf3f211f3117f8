// Caxton as an MCP server, against a real node process: the SDK's own Client over streamable HTTP (/mcp on the
// API port) and over stdio (`caxton mcp serve --stdio`, spawned as a desktop client spawns it). Each deploys
// the echo example, sends it a request with wait and gets the reply; a viewer key cannot deploy (tool error).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.ts';
import { exampleWasm } from '../helpers/modules.ts';
import { cliPath, runCli, startNode, type NodeProcess } from '../helpers/node-process.ts';

const TOOLS = ['agent_logs', 'cluster_status', 'deploy_agent', 'get_agent', 'get_conversation', 'list_agents', 'list_members', 'send_message'];

let node: NodeProcess;
let viewerKey: string;
const open: Client[] = [];

async function createKey(role: string, name: string): Promise<string> {
  const { api } = apiClient(() => ({ url: node.url, key: node.apiKey() }));
  const created = await api('/api/v1/security/api-keys', { method: 'POST', json: { name, role } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.key as string;
}

async function httpClient(key: string): Promise<Client> {
  const client = new Client({ name: 'caxton-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${node.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  open.push(client);
  return client;
}

async function stdioClient(key: string): Promise<Client> {
  const client = new Client({ name: 'caxton-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cliPath, 'mcp', 'serve', '--stdio', '--server', node.url],
    env: { ...(process.env as Record<string, string>), CAXTON_API_KEY: key },
    stderr: 'pipe',
  });
  await client.connect(transport);
  open.push(client);
  return client;
}

const call = (client: Client, name: string, args: Record<string, unknown> = {}) =>
  client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

beforeAll(async () => {
  node = await startNode();
  viewerKey = await createKey('viewer', 'mcp-viewer');
});
afterAll(async () => {
  for (const client of open) await client.close().catch(() => undefined);
  await node?.kill();
});

describe.each([
  ['streamable HTTP at /mcp', httpClient, 'http'],
  ['stdio (caxton mcp serve --stdio)', stdioClient, 'stdio'],
] as const)('Caxton MCP server over %s', (_transport, connect, tag) => {
  it('lists every tool with its input and output schema', async () => {
    const client = await connect(node.apiKey());
    expect(client.getServerVersion()?.name).toBe('caxton');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe('object');
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(tool.description, tool.name).toMatch(/permission/);
    }
    const send = tools.find((t) => t.name === 'send_message')!;
    expect(send.inputSchema.required).toEqual(expect.arrayContaining(['receiver', 'performative']));
  });

  it('deploys echo, sends it a request with wait and gets the reply; reads the conversation, the agent, the cluster', async () => {
    const client = await connect(node.apiKey());
    const name = `echo-${tag}`;
    const module = tag === 'stdio' ? { path: exampleWasm('echo') } : { module_base64: readFileSync(exampleWasm('echo')).toString('base64') };
    const deployed = await call(client, 'deploy_agent', { name, ...module, capabilities: ['echo'] });
    expect(deployed.isError, JSON.stringify(deployed.content)).toBeFalsy();
    expect(deployed.structuredContent).toMatchObject({ agent: { name, state: 'running', version: 1 } });

    const sent = await call(client, 'send_message', { receiver: name, performative: 'request', content: { hello: tag }, wait_ms: 5000 });
    expect(sent.isError, JSON.stringify(sent.content)).toBeFalsy();
    const result = sent.structuredContent as { conversation_id: string; replies: { performative: string; sender: string; content: unknown }[] };
    expect(result.replies).toHaveLength(1);
    expect(result.replies[0]).toMatchObject({ performative: 'inform', sender: name });
    expect(JSON.stringify(result.replies[0].content)).toContain(tag);

    const conversation = await call(client, 'get_conversation', { conversation_id: result.conversation_id });
    expect(conversation.isError, JSON.stringify(conversation.content)).toBeFalsy();
    expect((conversation.structuredContent as { messages: unknown[] }).messages.length).toBeGreaterThanOrEqual(2);

    const listed = await call(client, 'list_agents', { capability: 'echo' });
    expect((listed.structuredContent as { agents: { name: string }[] }).agents.map((a) => a.name)).toContain(name);
    expect((await call(client, 'get_agent', { name })).structuredContent).toMatchObject({ agent: { name } });
    expect((await call(client, 'cluster_status')).structuredContent).toMatchObject({ health: expect.any(String), alive: 1 });
    expect((await call(client, 'list_members')).structuredContent).toMatchObject({ members: [expect.objectContaining({ state: 'alive' })] });
    const logs = await call(client, 'agent_logs', { name, limit: 10 });
    expect(logs.isError, JSON.stringify(logs.content)).toBeFalsy();
    expect(logs.structuredContent).toMatchObject({ lines: expect.any(Array) });
  });

  it('a viewer key cannot deploy: a tool error naming the permission, and the session goes on', async () => {
    const client = await connect(viewerKey);
    const refused = await call(client, 'deploy_agent', { name: `nope-${tag}`, module_base64: readFileSync(exampleWasm('echo')).toString('base64') });
    expect(refused.isError).toBe(true);
    expect((refused.content as { text: string }[])[0].text).toMatch(/^PERMISSION_DENIED: role 'viewer' lacks the permission 'agents:write'/);
    const sendRefused = await call(client, 'send_message', { receiver: 'echo-http', performative: 'request', content: 1 });
    expect(sendRefused.isError).toBe(true);
    // The viewer still reads.
    const listed = await call(client, 'list_agents');
    expect(listed.isError).toBeFalsy();
    expect((listed.structuredContent as { agents: { name: string }[] }).agents.map((a) => a.name)).not.toContain(`nope-${tag}`);
  });

  it('a missing agent or bad input is a tool error, never a crash', async () => {
    const client = await connect(node.apiKey());
    const missing = await call(client, 'get_agent', { name: 'no-such-agent' });
    expect(missing.isError).toBe(true);
    expect((missing.content as { text: string }[])[0].text).toMatch(/^(AGENT_)?NOT_FOUND: /);
    const bad = await call(client, 'deploy_agent', { name: 'x', module_base64: 'not base64!' });
    expect(bad.isError).toBe(true);
    const both = await call(client, 'deploy_agent', { name: 'x' });
    expect((both.content as { text: string }[])[0].text).toMatch(/exactly one of path and module_base64/);
  });
});

describe('caxton mcp serve --stdio specifics', () => {
  it('answers every request of a client that writes them and closes stdin (a shell pipe), then exits 0', async () => {
    const child = spawn(process.execPath, [cliPath, 'mcp', 'serve', '--stdio', '--server', node.url], {
      env: { ...process.env, CAXTON_API_KEY: node.apiKey() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.end(
      [
        { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sh', version: '1' } } },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_agents', arguments: {} } },
      ]
        .map((m) => JSON.stringify(m))
        .join('\n') + '\n',
    );
    expect(await exited).toBe(0);
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(answers.map((a) => a.id)).toEqual([1, 2]);
    expect(answers[1].result.structuredContent.agents).toEqual(expect.any(Array));
  });

  it('without --stdio: a usage error (exit 2)', async () => {
    const run = await runCli(['mcp', 'serve', '--server', node.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pass --stdio/);
  });
});

describe('/mcp over HTTP specifics', () => {
  it('refuses a module path over /mcp (the node reads no client-named file)', async () => {
    const client = await httpClient(node.apiKey());
    const refused = await call(client, 'deploy_agent', { name: 'by-path', path: '/etc/passwd' });
    expect(refused.isError).toBe(true);
    expect((refused.content as { text: string }[])[0].text).toMatch(/^INVALID_ARGUMENT: path: not accepted over \/mcp/);
  });

  it('without credentials: 401, as every route', async () => {
    const response = await fetch(`${node.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
  });

  it('GET and DELETE are 405 (stateless: no stream, no session); a batch is refused', async () => {
    const headers = { authorization: `Bearer ${node.apiKey()}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    expect((await fetch(`${node.url}/mcp`, { headers })).status).toBe(405);
    expect((await fetch(`${node.url}/mcp`, { method: 'DELETE', headers: { authorization: headers.authorization } })).status).toBe(405);
    const batch = await fetch(`${node.url}/mcp`, { method: 'POST', headers, body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]) });
    expect(batch.status).toBe(400);
    expect(await batch.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
  });

});
