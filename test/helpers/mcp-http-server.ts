// A streamable HTTP MCP server built with the SDK, for tests: stateless (a server and transport per request,
// as the SDK's own stateless example), with tools `echo {text}`, `big {bytes}` and `counter` (calls so far).
import { createServer, type Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface McpHttpServer {
  url: string;
  /** Requests seen with their Authorization header, to check configured headers are sent. */
  authorizations: string[];
  close(): Promise<void>;
}

/** `sse`: answer POSTs as event streams (the SDK's default) instead of JSON bodies. */
export async function startMcpHttpServer(options: { sse?: boolean } = {}): Promise<McpHttpServer> {
  let calls = 0;
  const authorizations: string[] = [];
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  const build = (): McpServer => {
    const mcp = new McpServer({ name: 'test-http', version: '1.0.0' });
    mcp.registerTool('echo', { description: 'echoes text', inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
    mcp.registerTool('big', { description: 'a large text', inputSchema: { bytes: z.number().int() } }, async ({ bytes }) => text('y'.repeat(bytes)));
    mcp.registerTool('counter', { description: 'calls so far' }, async () => ({ ...text(String(++calls)), structuredContent: { calls } }));
    return mcp;
  };
  const http: Server = createServer(async (req, res) => {
    authorizations.push(String(req.headers.authorization ?? ''));
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const mcp = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !options.sse });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    close: () => new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}
