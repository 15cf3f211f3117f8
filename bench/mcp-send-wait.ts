// send_message with wait through Caxton's MCP server, beside the same request through REST, against a real
// node process with the echo example: REST (POST /api/v1/messages?wait_ms), /mcp with a bare fetch per call
// (the server's cost), /mcp through the SDK's Client (what an MCP client pays), and `caxton mcp serve --stdio`
// through the SDK's Client (the stdio server calls REST in turn). One closed-loop caller; the modes take turns.
// Run: node --import tsx bench/mcp-send-wait.ts [calls=300] [rounds=5]   (JSON lines: one per round, then the medians)
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cliPath, startNode } from '../test/helpers/node-process.ts';

const CALLS = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP = 30;
const repoRoot = new URL('..', import.meta.url).pathname;

const node = await startNode();
const key = node.apiKey();
const auth = { authorization: `Bearer ${key}` };
const deployed = await fetch(`${node.url}/api/v1/agents`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'echo', module: readFileSync(`${repoRoot}examples/build/echo.wasm`).toString('base64') }),
});
if (deployed.status !== 201) throw new Error(`deploy: ${deployed.status} ${await deployed.text()}`);

const message = { receiver: 'echo', performative: 'request', content: { n: 1 } };
const expectReply = (replies: unknown[] | undefined): void => {
  if (!replies || replies.length !== 1) throw new Error(`expected one reply, got ${JSON.stringify(replies)}`);
};

const rest = async (): Promise<void> => {
  const res = await fetch(`${node.url}/api/v1/messages?wait_ms=5000`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(message) });
  expectReply(((await res.json()) as { replies?: unknown[] }).replies);
};
let id = 0;
const mcpFetch = async (): Promise<void> => {
  const res = await fetch(`${node.url}/mcp`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'send_message', arguments: { ...message, wait_ms: 5000 } } }),
  });
  expectReply(((await res.json()) as { result: { structuredContent: { replies: unknown[] } } }).result.structuredContent.replies);
};
const httpClient = new Client({ name: 'bench', version: '1' });
await httpClient.connect(new StreamableHTTPClientTransport(new URL(`${node.url}/mcp`), { requestInit: { headers: auth } }));
const stdioClient = new Client({ name: 'bench', version: '1' });
await stdioClient.connect(
  new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', 'serve', '--stdio', '--server', node.url], env: { ...(process.env as Record<string, string>), CAXTON_API_KEY: key } }),
);
const viaClient = (client: Client) => async (): Promise<void> => {
  const result = await client.callTool({ name: 'send_message', arguments: { ...message, wait_ms: 5000 } });
  expectReply((result.structuredContent as { replies: unknown[] }).replies);
};

const modes: [string, () => Promise<void>][] = [
  ['rest', rest],
  ['mcp_http_fetch', mcpFetch],
  ['mcp_http_sdk_client', viaClient(httpClient)],
  ['mcp_stdio_sdk_client', viaClient(stdioClient)],
];

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const perMode = new Map<string, { p50: number[]; p99: number[] }>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [, call] of modes) for (let i = 0; i < WARMUP; i++) await call();
    // Modes take turns call by call, so that a noisy neighbour slows them alike and the ratios hold.
    const times = new Map<string, number[]>(modes.map(([name]) => [name, []]));
    for (let i = 0; i < CALLS; i++) {
      for (const [name, call] of modes) {
        const t = performance.now();
        await call();
        times.get(name)!.push(performance.now() - t);
      }
    }
    for (const [name, list] of times) {
      list.sort((a, b) => a - b);
      const p50 = quantile(list, 0.5);
      const p99 = quantile(list, 0.99);
      const entry = perMode.get(name) ?? { p50: [], p99: [] };
      entry.p50.push(p50);
      entry.p99.push(p99);
      perMode.set(name, entry);
      console.log(JSON.stringify({ figure: 'mcp_send_wait_round', mode: name, round, calls: CALLS, p50_ms: +p50.toFixed(3), p99_ms: +p99.toFixed(3) }));
    }
  }
  for (const [name, { p50, p99 }] of perMode) {
    console.log(JSON.stringify({ figure: 'mcp_send_wait', mode: name, rounds: ROUNDS, calls_per_round: CALLS, p50_ms_median: +median(p50).toFixed(3), p99_ms_median: +median(p99).toFixed(3) }));
  }
} finally {
  await httpClient.close();
  await stdioClient.close();
  await node.kill();
}
