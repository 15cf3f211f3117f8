// Issue 10, finding 8: a JWT with `sub` "" or "admin" was accepted (the audit principal could be blank or pass
// for the admin key), and some errors bypassed the {"error": {code, message}} shape: 431 from Node's HTTP
// parser, FST_ERR_BAD_URL and FST_ERR_MAX_PARAM_LENGTH from the router. Against the real node.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const ISSUER = 'https://issuer.test/';
const SECRET = 'a-shared-secret-of-at-least-32-characters!';
let node: CaxtonNode;
let url: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-identity-'));
  const config = loadConfig({
    flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'auth.jwt_issuer': ISSUER, 'auth.jwt_secret': SECRET, 'api.auth_failures_max': 1000 },
    env: {},
  });
  node = await CaxtonNode.start({ config, listen: true, gossip: false });
  url = `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const token = (sub: string): Promise<string> =>
  new SignJWT({ caxton_role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

/** One raw HTTP exchange, for what fetch refuses to send. */
function raw(request: string): Promise<string> {
  const { port } = node.api!.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const errorBody = (text: string): unknown => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('JWT subjects', () => {
  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['the admin key', 'admin'],
    ['auth switched off', 'anonymous'],
    ['a refused caller', 'unauthenticated'],
    ['control characters', 'bob\nadmin'],
  ])('refuses a subject that is %s', async (_name, sub) => {
    const res = await fetch(`${url}/api/v1/agents`, { headers: { authorization: `Bearer ${await token(sub)}` } });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/"sub"/) });
  });

  it('refuses an API key named like a caller without a key', async () => {
    const res = await fetch(`${url}/api/v1/security/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.state.adminKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'unauthenticated', role: 'admin' }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'name' } });
  });

  it('takes an ordinary subject', async () => {
    const res = await fetch(`${url}/api/v1/agents`, { headers: { authorization: `Bearer ${await token('alice')}` } });
    expect(res.status).toBe(200);
  });
});

describe('every error has the API error shape', () => {
  const shaped = { error: { code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) } };

  it('a malformed %-escape in the path (FST_ERR_BAD_URL)', async () => {
    const res = await fetch(`${url}/api/v1/agents/%E0%A4%A`, { headers: { authorization: `Bearer ${node.state.adminKey.key}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject(shaped);
  });

  it('an over-long path parameter (FST_ERR_MAX_PARAM_LENGTH)', async () => {
    const res = await fetch(`${url}/api/v1/agents/${'a'.repeat(500)}`, { headers: { authorization: `Bearer ${node.state.adminKey.key}` } });
    expect(res.status).toBe(414);
    expect(await res.json()).toMatchObject(shaped);
  });

  it('headers too large (431 from the HTTP parser)', async () => {
    const answer = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(errorBody(answer)).toEqual({ error: { code: 'TOO_LARGE', message: expect.any(String) } });
  });

  it('a request that is not HTTP', async () => {
    const answer = await raw('GARBAGE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(errorBody(answer)).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.any(String) } });
  });
});
