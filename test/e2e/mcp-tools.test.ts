// Issue 11's tool calls against a real node: an agent (examples/agents/tool-relay) calls MCP servers from
// caxton.yaml — the real @modelcontextprotocol/server-memory over stdio, a streamable HTTP server built with
// the SDK, and a stdio server that crashes, hangs, answers 5 MiB or is not installed — and every outcome
// comes back to it as the ABI says. Grants are enforced at call_tool (-4) with an audit row.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.ts';
import { startMcpHttpServer, type McpHttpServer } from '../helpers/mcp-http-server.ts';
import { exampleModule } from '../helpers/modules.ts';
import { runCli, startNode, type NodeProcess } from '../helpers/node-process.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
const MiB = 1024 * 1024;

let node: NodeProcess;
let key: string;
let http: McpHttpServer;
let memoryFile: string;
const { api, deploy } = apiClient(() => ({ url: node.url, key }));

interface RelayAnswer {
  outcome: 'inform' | 'failure' | 'refused';
  result?: any;
  code?: number;
}

/** Asks a tool-relay agent to make one call and returns what it got. */
async function relay(agent: string, server: string, tool: string, args: Record<string, unknown> = {}): Promise<RelayAnswer> {
  const { status, body } = await api('/api/v1/messages?wait_ms=20000', {
    method: 'POST',
    json: { performative: 'request', receiver: agent, content: { server, tool, arguments: args } },
  });
  expect(status).toBe(200);
  expect(body.replies, JSON.stringify(body)).toHaveLength(1);
  return body.replies[0].content as RelayAnswer;
}

beforeAll(async () => {
  http = await startMcpHttpServer();
  const dir = mkdtempSync(join(tmpdir(), 'caxton-mcp-e2e-'));
  memoryFile = join(dir, 'memory.jsonl');
  const faultServer = join(repoRoot, 'test/fixtures/mcp/fault-server.mjs');
  const config = {
    mcp: {
      restart_backoff_ms: 200,
      servers: {
        memory: { command: join(repoRoot, 'node_modules/.bin/mcp-server-memory'), env: { MEMORY_FILE_PATH: memoryFile } },
        web: { url: http.url, headers: { authorization: 'Bearer e2e' } },
        faults: { command: process.execPath, args: [faultServer] },
        slow: { command: process.execPath, args: [faultServer], timeout_ms: 1000 },
        missing: { command: '/nonexistent/bin/mcp-server' },
      },
    },
  };
  const configFile = join(dir, 'caxton.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  node = await startNode({ args: ['--config', configFile] });
  key = node.apiKey();
  const relayModule = await exampleModule('tool-relay');
  const all = { memory: '*', web: '*', faults: '*', slow: '*', missing: '*' };
  expect((await deploy('relay', relayModule, { tools: all })).status).toBe(201);
  expect((await deploy('bystander', relayModule, { tools: { web: ['echo'] } })).status).toBe(201);
  expect((await deploy('reader', relayModule, { tools: { memory: ['read_graph'] } })).status).toBe(201);
  expect((await deploy('echo', await exampleModule('echo'))).status).toBe(201);
}, 90_000);

afterAll(async () => {
  await node?.kill('SIGTERM');
  await http?.close();
});

describe('an agent calls MCP servers configured in mcp.servers', () => {
  it('lists the servers as not started before any call', async () => {
    const { status, body } = await api('/api/v1/tools');
    expect(status).toBe(200);
    expect(body.servers.map((s: { name: string }) => s.name)).toEqual(['faults', 'memory', 'missing', 'slow', 'state', 'web']);
    expect(body.servers.every((s: { status: string }) => s.status === 'not_started')).toBe(true);
  });

  it('the real server-memory over stdio: create_entities then read_graph shows the entity', async () => {
    const created = await relay('relay', 'memory', 'create_entities', {
      entities: [{ name: 'Caxton', entityType: 'printer', observations: ['printed in Westminster'] }],
    });
    expect(created.outcome).toBe('inform');
    const graph = await relay('relay', 'memory', 'read_graph');
    expect(graph.outcome).toBe('inform');
    expect(JSON.stringify(graph.result)).toContain('printed in Westminster');
    expect(readFileSync(memoryFile, 'utf8')).toContain('Caxton');
    // Shared by the node's agents: another agent granted read_graph sees the same graph.
    expect(JSON.stringify((await relay('reader', 'memory', 'read_graph')).result)).toContain('Caxton');
  });

  it('a streamable HTTP server built with the SDK, with the configured headers', async () => {
    const answer = await relay('relay', 'web', 'echo', { text: 'over http' });
    expect(answer).toMatchObject({ outcome: 'inform', result: { content: [{ type: 'text', text: 'over http' }] } });
    expect(http.authorizations).toContain('Bearer e2e');
  });

  it('GET /api/v1/tools and caxton tools list show running servers and their tools', async () => {
    const { body } = await api('/api/v1/tools?server=memory');
    expect(body.servers).toHaveLength(1);
    expect(body.servers[0]).toMatchObject({ name: 'memory', kind: 'stdio', status: 'running' });
    expect(body.servers[0].tools.map((t: { name: string }) => t.name)).toContain('read_graph');
    const listed = await runCli(['tools', 'list', 'web'], { CAXTON_SERVER: node.url, CAXTON_API_KEY: key });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/web\s+http\s+running/);
    expect(listed.stdout).toContain('echo');
    expect((await api('/api/v1/tools?server=nope')).status).toBe(404);
  });
});

describe('faults reach the agent as failure with the right code; the node and other agents carry on', () => {
  async function othersUnaffected(): Promise<void> {
    expect((await fetch(`${node.url}/health`)).ok).toBe(true);
    const { body } = await api('/api/v1/messages?wait_ms=5000', { method: 'POST', json: { performative: 'request', receiver: 'echo', content: { still: 'here' } } });
    expect(body.replies[0]).toMatchObject({ performative: 'inform', content: { still: 'here' } });
    expect(await relay('bystander', 'web', 'echo', { text: 'fine' })).toMatchObject({ outcome: 'inform' });
  }

  it('SERVER_EXITED when the server crashes mid-call; restarted with backoff on the next call', async () => {
    const before = await relay('relay', 'faults', 'pid');
    expect(before.outcome).toBe('inform');
    const crashed = await relay('relay', 'faults', 'crash');
    expect(crashed).toMatchObject({ outcome: 'failure', result: { error: { code: 'SERVER_EXITED' } } });
    const { body } = await api('/api/v1/tools?server=faults');
    expect(body.servers[0].status).toBe('restarting');
    expect(body.servers[0].last_error).toContain('exited');
    await othersUnaffected();
    const after = await relay('relay', 'faults', 'pid');
    expect(after.outcome).toBe('inform');
    expect(after.result.content[0].text).not.toBe(before.result.content[0].text);
    expect((await api('/api/v1/tools?server=faults')).body.servers[0]).toMatchObject({ status: 'running', restarts: 1 });
  });

  it('TIMEOUT when it hangs past its timeout', async () => {
    expect(await relay('relay', 'slow', 'hang')).toMatchObject({ outcome: 'failure', result: { error: { code: 'TIMEOUT' } } });
    await othersUnaffected();
  });

  it('TOO_LARGE when it answers 5 MiB', async () => {
    expect(await relay('relay', 'faults', 'big', { bytes: 5 * MiB })).toMatchObject({ outcome: 'failure', result: { error: { code: 'TOO_LARGE' } } });
    await othersUnaffected();
    expect(await relay('relay', 'faults', 'echo', { text: 'back' })).toMatchObject({ outcome: 'inform' });
  });

  it('UNAVAILABLE when it is not installed', async () => {
    const answer = await relay('relay', 'missing', 'anything');
    expect(answer).toMatchObject({ outcome: 'failure', result: { error: { code: 'UNAVAILABLE' } } });
    expect(answer.result.error.message).toContain('ENOENT');
    await othersUnaffected();
  });

  it('UNKNOWN_TOOL and TOOL_ERROR', async () => {
    expect(await relay('relay', 'faults', 'no_such_tool')).toMatchObject({ outcome: 'failure', result: { error: { code: 'UNKNOWN_TOOL' } } });
    expect(await relay('relay', 'faults', 'fail')).toMatchObject({ outcome: 'failure', result: { error: { code: 'TOOL_ERROR' } } });
  });
});

describe('grants', () => {
  it('a tool outside the grant is -4 at call_tool and an audit row', async () => {
    expect(await relay('reader', 'memory', 'create_entities', { entities: [] })).toEqual({ outcome: 'refused', code: -4 });
    expect(await relay('bystander', 'faults', 'echo', { text: 'x' })).toEqual({ outcome: 'refused', code: -4 });
    const db = new Database(join(node.dataDir, 'caxton.db'), { readonly: true });
    try {
      const rows = (): Array<{ principal: string; target: string }> =>
        db.prepare("SELECT principal, target FROM audit_log WHERE action = 'call_tool' AND outcome = 'denied'").all() as Array<{ principal: string; target: string }>;
      await expect.poll(() => rows().map((r) => `${r.principal} ${r.target}`), { timeout: 5_000 }).toEqual(
        expect.arrayContaining(['agent:reader tool memory/create_entities', 'agent:bystander tool faults/echo']),
      );
    } finally {
      db.close();
    }
  });
});
