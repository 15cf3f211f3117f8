// The gateway against real MCP servers in child processes (no node): outcomes, codes, restart, limits.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { BuiltinToolServer } from '../../src/tools/builtin-server.ts';
import { McpToolGateway, type ToolGatewayOptions } from '../../src/tools/mcp-tool-gateway.ts';
import { startMcpHttpServer, type McpHttpServer } from '../helpers/mcp-http-server.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
const faultServer = join(repoRoot, 'test/fixtures/mcp/fault-server.mjs');
const memoryServer = join(repoRoot, 'node_modules/.bin/mcp-server-memory');
const silent = { info() {}, warn() {} };
const MiB = 1024 * 1024;

function gateway(servers: ToolGatewayOptions['servers'], extra: Partial<ToolGatewayOptions> = {}): McpToolGateway {
  return new McpToolGateway({
    servers,
    callTimeoutMs: 10_000,
    maxResultBytes: MiB,
    maxCallsPerServer: 64,
    maxCallsPerAgent: 16,
    startTimeoutMs: 20_000,
    restartBackoffMs: 200,
    restartBackoffMaxMs: 2_000,
    builtins: {},
    logger: silent,
    ...extra,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<CaxtonError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CaxtonError);
    return error as CaxtonError;
  }
  throw new Error('expected the call to fail');
}

const textOf = (result: unknown): string => (result as { content: Array<{ text: string }> }).content[0].text;

describe('a stdio server that misbehaves', () => {
  const tools = gateway({
    faults: { command: process.execPath, args: [faultServer], env: {} },
    slow: { command: process.execPath, args: [faultServer], env: {}, timeout_ms: 500 },
    missing: { command: '/nonexistent/mcp-server', args: [], env: {} },
    refuses: { command: process.execPath, args: [faultServer], env: { FAULT_SERVER_EXIT_AT_START: '1' } },
  });
  afterAll(() => tools.close());

  it('is not started before the first call, then runs with its tools listed', async () => {
    expect(tools.list('faults')[0]).toMatchObject({ status: 'not_started', tools: [] });
    expect(textOf(await tools.call('a', 'faults', 'echo', { text: 'hello' }))).toBe('hello');
    const view = tools.list('faults')[0];
    expect(view.status).toBe('running');
    expect(view.pid).toBeGreaterThan(0);
    expect(view.tools.map((t) => t.name)).toContain('crash');
  });

  it('SERVER_EXITED when it dies mid-call; restarted with backoff on the next call', async () => {
    const firstPid = Number(textOf(await tools.call('a', 'faults', 'pid', {})));
    const failure = await failureOf(tools.call('a', 'faults', 'crash', {}));
    expect(failure.code).toBe('SERVER_EXITED');
    const view = tools.list('faults')[0];
    expect(view.status).toBe('restarting');
    expect(view.last_error).toContain('exited');
    expect(view.retry_at).not.toBeNull();
    const secondPid = Number(textOf(await tools.call('a', 'faults', 'pid', {})));
    expect(secondPid).not.toBe(firstPid);
    expect(tools.list('faults')[0]).toMatchObject({ status: 'running', restarts: 1 });
  });

  it('TIMEOUT when it hangs past the timeout, and the server keeps serving', async () => {
    const failure = await failureOf(tools.call('a', 'slow', 'hang', {}));
    expect(failure.code).toBe('TIMEOUT');
    expect(textOf(await tools.call('a', 'slow', 'echo', { text: 'still here' }))).toBe('still here');
  });

  it('TOO_LARGE when it answers 5 MiB; the next call starts it again', async () => {
    const failure = await failureOf(tools.call('a', 'faults', 'big', { bytes: 5 * MiB }));
    expect(failure.code).toBe('TOO_LARGE');
    expect(textOf(await tools.call('a', 'faults', 'echo', { text: 'after' }))).toBe('after');
  });

  it('TOO_LARGE for a result just over the limit that still fits the framing', async () => {
    const failure = await failureOf(tools.call('a', 'faults', 'big', { bytes: MiB + 10 }));
    expect(failure.code).toBe('TOO_LARGE');
  });

  it('UNAVAILABLE when the command is not installed, with the reason kept for the listing', async () => {
    const failure = await failureOf(tools.call('a', 'missing', 'anything', {}));
    expect(failure.code).toBe('UNAVAILABLE');
    expect(failure.message).toMatch(/ENOENT/);
    expect(tools.list('missing')[0]).toMatchObject({ status: 'restarting' });
    expect(tools.list('missing')[0].last_error).toMatch(/cannot start/);
  });

  it('UNAVAILABLE with its stderr when it exits at start', async () => {
    const failure = await failureOf(tools.call('a', 'refuses', 'echo', { text: 'x' }));
    expect(failure.code).toBe('UNAVAILABLE');
    expect(tools.list('refuses')[0].last_error).toContain('refusing to start on purpose');
  });

  it('UNKNOWN_TOOL for a tool the server does not list', async () => {
    expect((await failureOf(tools.call('a', 'faults', 'no_such_tool', {}))).code).toBe('UNKNOWN_TOOL');
  });

  it('TOOL_ERROR when the tool reports isError, with its text', async () => {
    const failure = await failureOf(tools.call('a', 'faults', 'fail', {}));
    expect(failure.code).toBe('TOOL_ERROR');
    expect(failure.message).toContain('it went wrong on purpose');
  });

  it('UNAVAILABLE for a server that is not configured', async () => {
    expect((await failureOf(tools.call('a', 'nowhere', 'x', {}))).code).toBe('UNAVAILABLE');
  });

  it('refreshes its tool list when the server says it changed', async () => {
    await tools.call('a', 'faults', 'add_tool', {});
    // The SDK debounces list_changed; the unknown-tool path refreshes too, but only every few seconds.
    await expect.poll(() => tools.list('faults')[0].tools.map((t) => t.name), { timeout: 5_000 }).toContain('added');
    expect(textOf(await tools.call('a', 'faults', 'added', {}))).toBe('added works');
  });
});

describe('bounds on calls in flight', () => {
  it('QUOTA_EXCEEDED past the per-agent and per-server bounds; other agents still call', async () => {
    const tools = gateway({ faults: { command: process.execPath, args: [faultServer], env: {}, timeout_ms: 2_000 } }, { maxCallsPerAgent: 2, maxCallsPerServer: 3 });
    try {
      await tools.call('warm', 'faults', 'echo', { text: 'x' });
      const hung = [tools.call('a', 'faults', 'hang', {}), tools.call('a', 'faults', 'hang', {})];
      expect((await failureOf(tools.call('a', 'faults', 'echo', { text: 'x' }))).code).toBe('QUOTA_EXCEEDED');
      hung.push(tools.call('b', 'faults', 'hang', {}));
      const perServer = await failureOf(tools.call('c', 'faults', 'echo', { text: 'x' }));
      expect(perServer.code).toBe('QUOTA_EXCEEDED');
      expect(perServer.message).toContain('max_calls_per_server');
      for (const call of hung) expect((await failureOf(call)).code).toBe('TIMEOUT');
      expect(textOf(await tools.call('a', 'faults', 'echo', { text: 'free again' }))).toBe('free again');
    } finally {
      await tools.close();
    }
  });
});

describe('the real @modelcontextprotocol/server-memory over stdio', () => {
  it('create_entities then read_graph shows the entity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caxton-memory-'));
    const file = join(dir, 'memory.jsonl');
    const tools = gateway({ memory: { command: memoryServer, args: [], env: { MEMORY_FILE_PATH: file } } });
    try {
      await tools.call('a', 'memory', 'create_entities', {
        entities: [{ name: 'Caxton', entityType: 'printer', observations: ['printed the first book in England'] }],
      });
      const graph = (await tools.call('a', 'memory', 'read_graph', {})) as { structuredContent?: { entities: Array<{ name: string }> }; content: Array<{ text: string }> };
      expect(JSON.stringify(graph)).toContain('printed the first book in England');
      expect(readFileSync(file, 'utf8')).toContain('Caxton');
    } finally {
      await tools.close();
    }
  });
});

describe('a streamable HTTP server built with the SDK', () => {
  let http: McpHttpServer;
  beforeAll(async () => {
    http = await startMcpHttpServer();
  });
  afterAll(() => http?.close());

  it('is called with the configured headers; TOO_LARGE past the limit; UNAVAILABLE once it is gone', async () => {
    const tools = gateway({ web: { url: http.url, headers: { authorization: 'Bearer test-token' } } });
    try {
      expect(textOf(await tools.call('a', 'web', 'echo', { text: 'over http' }))).toBe('over http');
      expect(http.authorizations).toContain('Bearer test-token');
      expect((await failureOf(tools.call('a', 'web', 'big', { bytes: 5 * MiB }))).code).toBe('TOO_LARGE');
      expect(textOf(await tools.call('a', 'web', 'echo', { text: 'again' }))).toBe('again');
      await http.close();
      expect((await failureOf(tools.call('a', 'web', 'echo', { text: 'x' }))).code).toBe('UNAVAILABLE');
    } finally {
      await tools.close();
    }
  });
});

describe('a streamable HTTP server answering with event streams', () => {
  it('is called; TOO_LARGE past the limit, then served again', async () => {
    const sse = await startMcpHttpServer({ sse: true });
    const tools = gateway({ web: { url: sse.url, headers: {}, timeout_ms: 5_000 } });
    try {
      expect(textOf(await tools.call('a', 'web', 'echo', { text: 'streamed' }))).toBe('streamed');
      expect((await failureOf(tools.call('a', 'web', 'big', { bytes: 5 * MiB }))).code).toBe('TOO_LARGE');
      expect(textOf(await tools.call('a', 'web', 'echo', { text: 'again' }))).toBe('again');
    } finally {
      await tools.close();
      await sse.close();
    }
  });
});

describe('a built-in server', () => {
  const notes = new Map<string, string>();
  const builtin: BuiltinToolServer = {
    name: 'notes',
    tools: () => [{ name: 'put', description: 'stores', inputSchema: { type: 'object' } }, { name: 'get', description: 'reads', inputSchema: { type: 'object' } }],
    call: async (agent, tool, args) => {
      const key = `${agent}/${String(args.key)}`;
      if (tool === 'put') notes.set(key, String(args.value));
      const value = notes.get(key) ?? null;
      return { content: [{ type: 'text', text: JSON.stringify({ value }) }], structuredContent: { value } };
    },
    close: async () => {},
  };

  it('is called directly with the calling agent, and scoped by it', async () => {
    const tools = gateway({ state: { builtin: 'state' } }, { builtins: { state: async () => builtin } });
    await tools.call('alice', 'state', 'put', { key: 'k', value: 'v' });
    expect(await tools.call('alice', 'state', 'get', { key: 'k' })).toMatchObject({ structuredContent: { value: 'v' } });
    expect(await tools.call('bob', 'state', 'get', { key: 'k' })).toMatchObject({ structuredContent: { value: null } });
    expect((await failureOf(tools.call('alice', 'state', 'drop', {}))).code).toBe('UNKNOWN_TOOL');
    expect(tools.list('state')[0]).toMatchObject({ kind: 'builtin', status: 'running' });
    await tools.close();
  });

  it('regression (fuzz): a built-in answering undefined is TOOL_ERROR, not a TypeError', async () => {
    const odd: BuiltinToolServer = { ...builtin, call: async () => undefined as never };
    const tools = gateway({ state: { builtin: 'state' } }, { builtins: { state: async () => odd } });
    expect((await failureOf(tools.call('alice', 'state', 'get', {}))).code).toBe('TOOL_ERROR');
    await tools.close();
  });

  it('regression (fuzz): a built-in throwing an object whose toString is not a function is TOOL_ERROR, not a TypeError', async () => {
    const thrown = { toString: -4.7e68, detail: 'x' };
    const odd: BuiltinToolServer = {
      ...builtin,
      call: async () => {
        throw thrown;
      },
    };
    const tools = gateway({ state: { builtin: 'state' } }, { builtins: { state: async () => odd } });
    const failure = await failureOf(tools.call('alice', 'state', 'get', {}));
    expect(failure.code).toBe('TOOL_ERROR');
    expect(failure.message).toContain('[object Object]');
    await tools.close();
  });

  it('UNAVAILABLE when this build lacks it', async () => {
    const tools = gateway({ state: { builtin: 'state' } });
    expect((await failureOf(tools.call('alice', 'state', 'get', {}))).code).toBe('UNAVAILABLE');
  });
});

describe('a stdio server writing what is not MCP', () => {
  const tools = gateway({ faults: { command: process.execPath, args: [faultServer], env: {}, timeout_ms: 3_000 } });
  afterAll(() => tools.close());

  it('lines that are not JSON-RPC are skipped and the answer still arrives', async () => {
    expect(textOf(await tools.call('a', 'faults', 'garbage', {}))).toBe('ok');
    expect(textOf(await tools.call('a', 'faults', 'echo', { text: 'fine' }))).toBe('fine');
  });

  it('a result that is not a CallToolResult is TOOL_ERROR', async () => {
    const failure = await failureOf(tools.call('a', 'faults', 'malformed', {}));
    expect(failure.code).toBe('TOOL_ERROR');
    expect(textOf(await tools.call('a', 'faults', 'echo', { text: 'still fine' }))).toBe('still fine');
  });
});
