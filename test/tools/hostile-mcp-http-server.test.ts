// The gateway against a streamable HTTP MCP server that never ends the response of a call it will not answer,
// keeping it alive with SSE comments: each call the agent gave up on (TIMEOUT) must not keep its socket.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpToolGateway } from '../../src/tools/mcp-tool-gateway.ts';

const CALL_TIMEOUT_MS = 300;
const START_TIMEOUT_MS = 1_000;
let http: Server;
let openStreams = 0;
let tools: McpToolGateway;

beforeAll(async () => {
  http = createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    let body = '';
    for await (const chunk of req) body += chunk;
    const message = JSON.parse(body) as { id?: number; method: string; params: { protocolVersion?: string; name?: string } };
    const answer = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    if (message.id === undefined) return void res.writeHead(202).end();
    if (message.method === 'initialize') {
      return answer({ protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'trickle', version: '1' } });
    }
    if (message.method === 'tools/list') return answer({ tools: ['slow', 'quick'].map((name) => ({ name, inputSchema: { type: 'object' } })) });
    if (message.params.name === 'quick') return answer({ content: [{ type: 'text', text: 'quick' }] });
    openStreams++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const keepAlive = setInterval(() => res.write(': still here\n\n'), 100);
    res.on('close', () => {
      clearInterval(keepAlive);
      openStreams--;
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  tools = new McpToolGateway({
    servers: { trickle: { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`, headers: {} } },
    callTimeoutMs: CALL_TIMEOUT_MS,
    maxResultBytes: 1024 * 1024,
    maxCallsPerServer: 64,
    maxCallsPerAgent: 16,
    startTimeoutMs: START_TIMEOUT_MS,
    restartBackoffMs: 200,
    restartBackoffMaxMs: 2_000,
    builtins: {},
    logger: { info() {}, warn() {} },
  });
});
afterAll(async () => {
  await tools?.close();
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

describe('a streamable HTTP server that keeps abandoned responses open', () => {
  it('has each one closed by the deadline of its request, and keeps serving calls', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => tools.call(`agent-${i}`, 'trickle', 'slow', {}).catch((error: { code: string }) => error.code)));
    expect(outcomes).toEqual(Array(20).fill('TIMEOUT'));
    // Each request's deadline is the longer of the call and start timeouts plus 1 s of grace (2 s here). Polled,
    // not slept: a loaded machine may close them later than that, but a stream kept for ever (the bug: the
    // keep-alive comments never let it end) never reaches 0.
    expect(openStreams).toBeGreaterThan(0);
    const deadline = Date.now() + 15_000;
    while (openStreams > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openStreams).toBe(0);
    expect(await tools.call('agent-0', 'trickle', 'quick', {})).toMatchObject({ content: [{ text: 'quick' }] });
  }, 30_000);
});
