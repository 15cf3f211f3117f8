// JWT bearer tokens against a real node in this process: a shared secret (HS256/384/512) and a JWKS served by
// a local HTTP server; every refusal is a 401 naming its reason, audited, and never showing the secret.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { JwtAuthenticator, looksLikeJwt } from '../../src/node/jwt-auth.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const ISSUER = 'https://idp.example';
const AUDIENCE = 'caxton-test';
const SECRET = 'a-shared-secret-of-at-least-32-characters';

interface RunningNode {
  node: CaxtonNode;
  url: string;
  dataDir: string;
}

async function startNode(settings: Record<string, unknown>): Promise<RunningNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-jwt-'));
  // These tests refuse many tokens from one address on purpose: lift the failed-login budget that would cut them off.
  const flags = { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'api.auth_failures_max': 10_000, ...settings };
  const config = loadConfig({ flags, env: {} });
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  const { port } = node.api!.server.address() as AddressInfo;
  return { node, url: `http://127.0.0.1:${port}`, dataDir };
}

async function stopNode(running: RunningNode | undefined): Promise<void> {
  if (!running) return;
  await running.node.stop();
  rmSync(running.dataDir, { recursive: true, force: true });
}

async function call(base: RunningNode, token: string, path = '/api/v1/agents', method = 'GET'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const now = (): number => Math.floor(Date.now() / 1000);

/** A token as an identity provider would mint it; `claims` override or (undefined) remove the defaults. */
async function hsToken(claims: Record<string, unknown> = {}, options: { alg?: string; secret?: string } = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', caxton_role: 'viewer', exp: now() + 300, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'HS256' }).sign(new TextEncoder().encode(options.secret ?? SECRET));
}

describe('JWTs with a shared secret', () => {
  let base: RunningNode;
  beforeAll(async () => {
    // The tests before the audit one refuse more than a window's denials of one caller written one by one (10):
    // raised, so that its refusal is written at once rather than counted into the window's row.
    base = await startNode({ 'auth.jwt_issuer': ISSUER, 'auth.jwt_audience': AUDIENCE, 'auth.jwt_secret': SECRET, 'api.audit_denials_per_window': 1000 });
  });
  afterAll(() => stopNode(base));

  it('a valid token passes with the role of its claim, as its subject', async () => {
    expect((await call(base, await hsToken())).status).toBe(200);
    const denied = await call(base, await hsToken(), '/api/v1/dead-letters', 'DELETE');
    expect(denied.status).toBe(403);
    expect(denied.body.error.details).toMatchObject({ role: 'viewer' });

    const operator = await call(base, await hsToken({ sub: 'ops-bob', caxton_role: 'operator' }, { alg: 'HS384' }), '/api/v1/dead-letters', 'DELETE');
    expect(operator.status).toBe(200);
    const admin = await call(base, await hsToken({ sub: 'root-carol', caxton_role: 'admin' }, { alg: 'HS512' }), '/api/v1/security/api-keys');
    expect(admin.status).toBe(200);

    base.node.state.audit.flush();
    const audit = base.node.state.audit.list(10);
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ principal: 'alice', action: 'DELETE /api/v1/dead-letters', outcome: 'denied' }),
        expect.objectContaining({ principal: 'ops-bob', action: 'DELETE /api/v1/dead-letters', outcome: 'ok' }),
      ]),
    );
  });

  it('API keys keep working beside JWTs', async () => {
    expect((await call(base, base.node.state.adminKey.key)).status).toBe(200);
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    ['expired', () => hsToken({ exp: now() - 60 }), /^JWT refused: it expired at \d{4}-/],
    ['not yet valid', () => hsToken({ nbf: now() + 600 }), /not valid before/],
    ['wrong issuer', () => hsToken({ iss: 'https://evil.example' }), /wrong issuer: "https:\/\/evil\.example"/],
    ['wrong audience', () => hsToken({ aud: 'another-service' }), /wrong audience/],
    ['no audience', () => hsToken({ aud: undefined }), /no "aud" claim/],
    ['bad signature', () => hsToken({}, { secret: 'some-other-secret-of-at-least-32-chars' }), /bad signature/],
    ['a token that never expires', () => hsToken({ exp: undefined }), /no "exp" claim/],
    ['no subject', () => hsToken({ sub: undefined }), /no "sub" claim/],
    ['no role claim (deny, not viewer)', () => hsToken({ caxton_role: undefined }), /no "caxton_role" claim/],
    ['an unknown role', () => hsToken({ caxton_role: 'root' }), /"root" is not a role/],
    ['a role list', () => hsToken({ caxton_role: ['admin'] }), /is not a role/],
    ['alg none', async () => (await hsToken()).split('.').slice(0, 2).join('.').replace(/^[^.]+/, b64({ alg: 'none' })) + '.', /algorithm|malformed/],
    ['a tampered payload', async () => {
      const [header, , signature] = (await hsToken()).split('.');
      return [header, b64({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', caxton_role: 'admin', exp: now() + 300 }), signature].join('.');
    }, /bad signature/],
    ['garbage in three parts', async () => 'abc.def.ghi', /malformed/],
  ];

  for (const [what, token, reason] of refusals) {
    it(`refuses ${what} with 401 and the reason`, async () => {
      const { status, body } = await call(base, await token(), '/api/v1/agents', 'POST');
      expect(status).toBe(401);
      expect(body.error.code).toBe('UNAUTHENTICATED');
      expect(body.error.message).toMatch(reason);
      expect(JSON.stringify(body)).not.toContain(SECRET);
    });
  }

  it('audits refused JWTs as denied, without the token', async () => {
    await call(base, await hsToken({ exp: now() - 60 }), '/api/v1/agents/x', 'DELETE');
    base.node.state.audit.flush();
    const [last] = base.node.state.audit.list(1);
    expect(last).toMatchObject({ principal: 'unauthenticated', action: 'DELETE /api/v1/agents/:name', outcome: 'denied' });
    expect(last.details).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('JWTs verified with a JWKS from the issuer', () => {
  let jwksServer: Server;
  let jwksUrl: string;
  let fetches = 0;
  let base: RunningNode;
  let signingKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwksServer = createServer((request, response) => {
      fetches++;
      if (request.url !== '/.well-known/jwks.json') return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    base = await startNode({ 'auth.jwt_issuer': ISSUER, 'auth.jwt_jwks_url': jwksUrl, 'auth.jwt_role_claim': 'role' });
  });
  afterAll(async () => {
    await stopNode(base);
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  const esToken = (key: CryptoKey, claims: Record<string, unknown> = {}, kid = 'k1'): Promise<string> =>
    new SignJWT({ iss: ISSUER, sub: 'dave', role: 'deployer', exp: now() + 300, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid })
      .sign(key);

  it('a token signed by the issuer\'s key passes with its role (claim named by auth.jwt_role_claim)', async () => {
    expect((await call(base, await esToken(signingKey))).status).toBe(200);
    const upload = await call(base, await esToken(signingKey), '/api/v1/dead-letters', 'DELETE');
    expect(upload.body.error).toMatchObject({ code: 'PERMISSION_DENIED', details: { role: 'deployer' } });
    expect(fetches).toBe(1); // the key set is cached
  });

  it('refuses another key, an unknown kid, an HS token and a role under another claim', async () => {
    expect((await call(base, await esToken(otherKey))).body.error.message).toMatch(/bad signature/);
    expect((await call(base, await esToken(signingKey, {}, 'k2'))).body.error.message).toMatch(/no key in the issuer's key set/);
    // HS256 "signed" with the public key as a secret: the classic algorithm confusion, refused by algorithm.
    const hs = await call(base, await hsToken({ aud: undefined, role: 'admin' }));
    expect([hs.status, hs.body.error.message]).toEqual([401, expect.stringMatching(/algorithm/)]);
    expect((await call(base, await esToken(signingKey, { role: undefined, caxton_role: 'admin' }))).body.error.message).toMatch(/no "role" claim/);
  });

  it('an unreachable JWKS is 503 UNAVAILABLE for the caller and reported to the operator', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks`;
    await new Promise((resolve) => closed.close(resolve));
    const reported: unknown[] = [];
    const auth = new JwtAuthenticator({ issuer: ISSUER, jwksUrl: url, roleClaim: 'role', onJwksError: (e) => reported.push(e) });
    const error = await auth.authenticate(await esToken(signingKey)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    expect((error as Error).message).not.toContain(url);
    expect(reported).toHaveLength(1);
  });
});

describe('a node without a JWT issuer', () => {
  let base: RunningNode;
  beforeAll(async () => {
    base = await startNode({});
  });
  afterAll(() => stopNode(base));

  it('refuses JWTs saying it takes none, and still takes its API keys', async () => {
    const { status, body } = await call(base, await hsToken({ caxton_role: 'admin' }));
    expect(status).toBe(401);
    expect(body.error.message).toMatch(/accepts no JWTs \(auth\.jwt_issuer is not set\)/);
    expect((await call(base, base.node.state.adminKey.key)).status).toBe(200);
  });

  it('tells a JWT from an API key by its three base64url parts', () => {
    expect(looksLikeJwt(base.node.state.adminKey.key)).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(true);
    expect(looksLikeJwt('a.b.')).toBe(true);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d.e')).toBe(false); // a JWE: not accepted
  });
});
