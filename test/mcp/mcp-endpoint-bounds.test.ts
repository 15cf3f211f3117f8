// /mcp's bounds and its use of the API's auth, on a real node in this process: a JWT principal deploys with
// its role and is audited as itself; api.mcp_max_in_flight refuses the request beyond it with 503 at once;
// a client that goes away ends its send_message wait and frees its slot.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { compileWat, exampleModule } from '../helpers/modules.ts';

const ISSUER = 'https://idp.example';
const SECRET = 'a-shared-secret-of-at-least-32-characters';

let node: CaxtonNode;
let url: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-mcp-bounds-'));
  const flags = { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'auth.jwt_issuer': ISSUER, 'auth.jwt_secret': SECRET, 'api.mcp_max_in_flight': 1, 'api.mcp_allowed_origins': ['http://localhost:3000'] };
  node = await CaxtonNode.start({ config: loadConfig({ flags, env: {} }), listen: true, gossip: false });
  url = `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const token = (sub: string, role: string): Promise<string> =>
  new SignJWT({ iss: ISSUER, sub, caxton_role: role, exp: Math.floor(Date.now() / 1000) + 300 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));

async function connect(bearer: string): Promise<Client> {
  const client = new Client({ name: 'bounds-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
  return client;
}

function rawCall(bearer: string, body: unknown, signal?: AbortSignal, extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...extraHeaders },
    body: JSON.stringify(body),
    signal,
  });
}

describe('/mcp with the API auth', () => {
  it('a JWT deployer deploys and is audited as its subject; a JWT viewer is refused with a tool error and a denial row', async () => {
    const deployer = await connect(await token('dana', 'deployer'));
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const deployed = (await deployer.callTool({ name: 'deploy_agent', arguments: { name: 'jwt-echo', module_base64: module } })) as CallToolResult;
    expect(deployed.isError, JSON.stringify(deployed.content)).toBeFalsy();
    // deployer lacks messages:send.
    const send = (await deployer.callTool({ name: 'send_message', arguments: { receiver: 'jwt-echo', performative: 'request' } })) as CallToolResult;
    expect((send.content as { text: string }[])[0].text).toMatch(/^PERMISSION_DENIED: role 'deployer' lacks the permission 'messages:send'/);
    await deployer.close();

    const viewer = await connect(await token('victor', 'viewer'));
    const refused = (await viewer.callTool({ name: 'deploy_agent', arguments: { name: 'jwt-nope', module_base64: module } })) as CallToolResult;
    expect(refused.isError).toBe(true);
    await viewer.close();

    node.state.audit.flush();
    const audit = node.state.audit.list(50);
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ principal: 'dana', action: 'mcp deploy_agent', target: 'jwt-echo', outcome: 'ok' }),
        expect.objectContaining({ principal: 'victor', action: 'mcp deploy_agent', outcome: 'denied' }),
      ]),
    );
  });
});

describe('browsers (an Origin header)', () => {
  it('only from api.mcp_allowed_origins: another origin is refused 403 (DNS rebinding)', async () => {
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const admin = node.state.adminKey.key;
    const rebound = await rawCall(admin, ping, undefined, { origin: 'http://evil.example:8080' });
    expect(rebound.status).toBe(403);
    expect(await rebound.json()).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'PERMISSION_DENIED' } } });
    const allowed = await rawCall(admin, ping, undefined, { origin: 'http://localhost:3000' });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ jsonrpc: '2.0', id: 1, result: {} });
  });
});

describe('servers reused between requests', () => {
  it('each request runs as its own principal, whoever the server served before', async () => {
    const admin = node.state.adminKey.key;
    const viewer = await token('vera', 'viewer');
    const deploy = (bearer: string, name: string) =>
      rawCall(bearer, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy_agent', arguments: { name, module_base64: 'AGFzbQEAAAA=' } } }).then(
        (res) => res.json() as Promise<{ result: CallToolResult }>,
      );
    for (let i = 0; i < 4; i++) {
      // The admin's deploy reaches the node (an empty module is INVALID_MODULE); the viewer's never does.
      expect((await deploy(admin, `pool-${i}`)).result.content).toEqual([expect.objectContaining({ text: expect.not.stringMatching(/PERMISSION_DENIED/) })]);
      expect((await deploy(viewer, `pool-${i}`)).result.content).toEqual([expect.objectContaining({ text: expect.stringMatching(/^PERMISSION_DENIED/) })]);
    }
  });
});

describe('api.mcp_max_in_flight', () => {
  it('refuses the request beyond the bound with 503 at once; the slot is free again when the waiting client goes away', async () => {
    const admin = node.state.adminKey.key;
    // An agent that never answers: a request to it waits its whole wait_ms, holding the one slot.
    const silent = await compileWat(`(module (memory (export "memory") 2)
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32) (param i32) (result i32) (i32.const 0)))`);
    await node.deployAgent({ name: 'silent' }, silent);
    const gone = new AbortController();
    const waiting = rawCall(
      admin,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'send_message', arguments: { receiver: 'silent', performative: 'request', content: 1, wait_ms: 60_000 } } },
      gone.signal,
    ).catch((error: Error) => error);
    // Wait until the node holds it (the first request reaches the handler before the second is sent).
    let refused: Response | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const res = await rawCall(admin, { jsonrpc: '2.0', id: 2, method: 'ping' });
      if (res.status === 503) refused = res;
      else await res.text();
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(await refused!.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, data: { code: 'UNAVAILABLE' } } });

    gone.abort();
    expect(await waiting).toBeInstanceOf(Error);
    let answered: Response | undefined;
    for (let i = 0; i < 100; i++) {
      answered = await rawCall(admin, { jsonrpc: '2.0', id: 3, method: 'ping' });
      if (answered.status === 200) break;
      await answered.text();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(answered?.status).toBe(200);
  });
});
