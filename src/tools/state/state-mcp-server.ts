// `caxton state serve`: the state tool's handlers served to any MCP client with the SDK's McpServer, over
// stdio or streamable HTTP. One served process is one agent's scope (--agent): the client is that agent.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { closeSilentConnections } from '../../api/silent-connections.ts';
import { CaxtonError } from '../../errors.ts';
import type { BuiltinToolServer } from '../builtin-server.ts';
import { STATE_BATCH_MAX_BYTES } from './state-limits.ts';

export const STATE_SERVER_VERSION = '0.1.0';

/** Largest HTTP request body: a full batch_store (16 MiB of values) with its JSON-RPC envelope. */
const HTTP_BODY_MAX_BYTES = STATE_BATCH_MAX_BYTES + 1024 * 1024;
/** Connections at once: each call is short; beyond this the kernel queues them. */
const HTTP_MAX_CONNECTIONS = 256;
/** A request body must arrive within this: a client that trickles bytes holds no connection for ever. */
const HTTP_REQUEST_TIMEOUT_MS = 30_000;
/** A connection that sends no request this long after it opened is closed: silent sockets held every slot. */
const HTTP_FIRST_REQUEST_TIMEOUT_MS = 10_000;

/** An McpServer whose tools/list and tools/call are the builtin server's, for `agent`. */
export function createStateMcpServer(tools: BuiltinToolServer, agent: string): McpServer {
  const server = new McpServer({ name: `caxton-${tools.name}`, version: STATE_SERVER_VERSION }, { capabilities: { tools: {} } });
  // The builtin server already validates arguments and describes its tools as JSON Schema: its handlers
  // answer the requests directly rather than being registered again through zod shapes.
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.tools() }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      return (await tools.call(agent, request.params.name, request.params.arguments ?? {})) as CallToolResult;
    } catch (error) {
      // The code first (QUOTA_EXCEEDED, UNAVAILABLE), as the node's own MCP server words its tool errors: a
      // client can tell a full quota from an outage without parsing the sentence.
      const text = error instanceof CaxtonError ? `${error.code}: ${error.message}` : (error as Error).message;
      return { content: [{ type: 'text', text }], isError: true };
    }
  });
  return server;
}

export async function serveStateStdio(tools: BuiltinToolServer, agent: string): Promise<{ closed: Promise<void> }> {
  const server = createStateMcpServer(tools, agent);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  return { closed };
}

export interface StateHttpOptions {
  host: string;
  port: number;
  /** Requests must carry `Authorization: Bearer <token>` when set. */
  bearerToken?: string;
  /** A connection that sends no request this long after it opened is closed (default 10 s). */
  firstRequestTimeoutMs?: number;
}

export interface StateHttpServer {
  /** http://host:port/mcp */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Streamable HTTP at /mcp, stateless: each POST gets a fresh McpServer and transport (cheap: no session
 * to keep, nothing to expire), and JSON responses rather than SSE. One JSON-RPC message per POST, as on the
 * node's own /mcp: one request's answer is bounded by one call's.
 */
export async function serveStateHttp(tools: BuiltinToolServer, agent: string, options: StateHttpOptions): Promise<StateHttpServer> {
  const expected = options.bearerToken ? Buffer.from(`Bearer ${options.bearerToken}`) : null;
  const http: Server = createServer((req, res) => {
    const reply = (status: number, message: string): void => {
      if (res.headersSent) return void res.end();
      // An error closes the connection: a refused body is never read to its end.
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
    };
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mcp') return reply(404, 'not found: the MCP endpoint is /mcp');
    // Checked before the body is read: an unauthenticated request costs a header comparison.
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply(401, 'missing or wrong bearer token');
    }
    if (req.method !== 'POST') return reply(405, 'method not allowed: this server is stateless, POST only');
    void handlePost(req).then(
      async (body) => {
        if (body === undefined) return reply(413, `request body larger than ${HTTP_BODY_MAX_BYTES} bytes`);
        if (body === null) return reply(400, 'request body is not JSON');
        // A batch of 100 (the SDK's own cap) batch_retrieve calls asks 100 answers of up to 16 MiB each for 1 KB
        // sent: 20 of them already made an answer too long to serialise, and the request was never answered.
        if (Array.isArray(body)) return reply(400, 'body: one JSON-RPC message per request (batches are not accepted)');
        const server = createStateMcpServer(tools, agent);
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        res.on('close', () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res, body);
      },
      () => reply(400, 'request body could not be read'),
    ).catch(() => reply(500, 'internal error'));
  });
  http.maxConnections = HTTP_MAX_CONNECTIONS;
  http.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
  closeSilentConnections(http, options.firstRequestTimeoutMs ?? HTTP_FIRST_REQUEST_TIMEOUT_MS);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => resolve());
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** The parsed JSON body; undefined when too large (the rest is left unread), null when not JSON. */
function handlePost(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > HTTP_BODY_MAX_BYTES) {
        req.off('data', onData).off('end', onEnd).pause();
        return resolve(undefined);
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch {
        resolve(null);
      }
    };
    req.on('data', onData).on('end', onEnd).once('error', reject);
  });
}
