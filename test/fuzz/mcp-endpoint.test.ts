// Fuzzing Caxton's MCP endpoint (POST /mcp on the real node, API injected, no port): any JSON-RPC message a
// client can send (known and unknown methods, tool calls with arbitrary arguments, bad ids and versions,
// batches, non-JSON bodies, odd Accept, Content-Type and Origin headers, any credentials). The properties: nothing
// answers 500 or throws out of the server, every answer but a notification's 202 is JSON, and the node still
// serves MCP afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

let node: CaxtonNode;
let dataDir: string;
let adminKey: string;
let viewerKey: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-fuzz-mcp-'));
  const config = loadConfig({
    flags: {
      dataDir,
      logLevel: 'silent',
      apiAddr: '127.0.0.1:0',
      // The fuzzer is one very busy client: lift its budgets so that it reaches the handlers, not the limiter.
      'api.rate_limit_roles': ['admin=100000000', 'viewer=100000000'],
      'api.rate_limit_max': 100_000_000,
      'api.auth_failures_max': 100_000_000,
    },
    env: {},
  });
  node = await CaxtonNode.start({ config, listen: 'inject', gossip: false });
  adminKey = node.state.adminKey.key;
  viewerKey = node.createApiKey('viewer', 'fuzz-viewer').key;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const TOOLS = ['list_agents', 'get_agent', 'deploy_agent', 'send_message', 'get_conversation', 'cluster_status', 'list_members', 'agent_logs'];
const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'notifications/initialized',
  'notifications/cancelled',
  'resources/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/list',
];

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('echo', 'df', 'ams', 'capability:x', '', '../etc', 'a'.repeat(300), '/etc/passwd', 'AAAA', 'AGFzbQEAAAA=', -1, 1e308, null),
);
const toolArguments = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.constantFrom('name', 'path', 'module_base64', 'receiver', 'performative', 'content', 'wait_ms', 'conversation_id', 'after_seq', 'limit', 'capabilities', 'tools', 'limits', 'node', 'capability', '__proto__'),
      fc.string({ maxLength: 10 }),
    ),
    anyValue,
    { maxKeys: 6 },
  ),
  anyValue,
);
/** A send_message the node accepts may wait: the fuzzer keeps its waits short rather than meet a 5 s default. */
function shortWait(args: unknown): unknown {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return args;
  const wait = (args as { wait_ms?: unknown }).wait_ms;
  if (wait === undefined || (Number.isInteger(wait) && (wait as number) > 20)) return { ...args, wait_ms: 20 };
  return args;
}
const params = fc.oneof(
  { weight: 6, arbitrary: fc.record({ name: fc.oneof(fc.constantFrom(...TOOLS), fc.string({ maxLength: 20 })), arguments: toolArguments.map(shortWait) }, { requiredKeys: ['name'] }) },
  { weight: 1, arbitrary: fc.record({
    protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26', '2024-11-05', 'x'),
    capabilities: fc.jsonValue({ maxDepth: 2 }),
    clientInfo: fc.jsonValue({ maxDepth: 2 }),
  }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const message = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.constantFrom('1.0', 2, null) }),
    id: fc.oneof({ weight: 8, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null), fc.double(), fc.jsonValue({ maxDepth: 1 })) }),
    method: fc.oneof({ weight: 4, arbitrary: fc.constant('tools/call') }, { weight: 4, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    params,
  },
  { requiredKeys: ['jsonrpc', 'method'] },
);
const body = fc.oneof(
  { weight: 16, arbitrary: message.map((m) => JSON.stringify(m)) },
  { weight: 1, arbitrary: fc.array(message, { maxLength: 3 }).map((m) => JSON.stringify(m)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[', 'null', '{"jsonrpc":"2.0"', '['.repeat(200), '{"__proto__":{"x":1}}') },
);
// Mostly what a real client sends, so that most inputs reach the MCP server and its tools.
const accept = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json, text/event-stream') },
  { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/event-stream', '*/*', undefined) },
);
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', undefined) },
);
const origin = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('http://evil.example', 'null', ''), fc.string({ maxLength: 30 }).filter((s) => /^[\x21-\x7e]*$/.test(s))) },
);
const credentials = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('admin', 'viewer') },
  { weight: 1, arbitrary: fc.constantFrom('none', 'garbage') },
);

/** What the answers were, so the run shows it reached the tools rather than only the parsers. */
const seen = { toolResults: 0, toolErrors: 0, rpcErrors: 0, refusedHttp: 0 };

function checkAnswer(res: LightMyRequestResponse): void {
  if (res.statusCode >= 500) expect(res.statusCode, res.body).toBe(503);
  // A notification (no id) is accepted with 202 and no body; everything else answers JSON.
  if (res.statusCode === 202 && res.body === '') return;
  let answer: { result?: { isError?: boolean; content?: unknown }; error?: unknown } = {};
  expect(() => (answer = JSON.parse(res.body)), `${res.statusCode} ${res.body}`).not.toThrow();
  if (res.statusCode >= 400) seen.refusedHttp++;
  else if (answer.error) seen.rpcErrors++;
  else if (answer.result?.isError) seen.toolErrors++;
  else if (answer.result?.content) seen.toolResults++;
}

function authorization(who: string): string | undefined {
  if (who === 'admin') return `Bearer ${adminKey}`;
  if (who === 'viewer') return `Bearer ${viewerKey}`;
  if (who === 'garbage') return 'Bearer cxk_nothing';
  return undefined;
}

describe('fuzz: the MCP endpoint of the real node', () => {
  it(
    'any JSON-RPC body, headers and credentials: never 500, always a JSON answer',
    async () => {
      await fc.assert(
        fc.asyncProperty(body, accept, contentType, credentials, origin, async (payload, acceptHeader, type, who, originHeader) => {
          const headers: Record<string, string> = {};
          if (originHeader !== undefined) headers.origin = originHeader;
          const auth = authorization(who);
          if (auth) headers.authorization = auth;
          if (acceptHeader) headers.accept = acceptHeader;
          if (type) headers['content-type'] = type;
          const res = await node.api!.inject({ method: 'POST', url: '/mcp', headers, payload });
          checkAnswer(res);
        }),
        fuzzParameters(),
      );
      expect(seen.toolResults, JSON.stringify(seen)).toBeGreaterThan(0);
      expect(seen.toolErrors, JSON.stringify(seen)).toBeGreaterThan(0);
      // Still serving.
      const res = await node.api!.inject({
        method: 'POST',
        url: '/mcp',
        headers: { authorization: `Bearer ${adminKey}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
        payload: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).result.tools).toHaveLength(TOOLS.length);
    },
    // Each input is an HTTP request through the whole API and the SDK: ~5-10 ms on a busy 2-core machine.
    fuzzTimeoutMs(15),
  );
});
