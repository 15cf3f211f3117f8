// OAuth2/OIDC: auth.oidc_issuer finds the provider's keys through /.well-known/openid-configuration and checks
// issuer, audience, an expiry within auth.oidc_max_token_lifetime_ms and a usable subject. A real OpenID
// provider from npm (oidc-provider) runs in this process on a loopback port and issues client-credentials
// access tokens, fetched the way a service would; the node checks them. No hand-made JWT.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const AUDIENCE = 'urn:caxton';
const SECRET = 'client-secret-of-a-reasonable-length-0123456789';
/** Each client's role claim, access-token audience and lifetime, as the provider's operator set them. */
const CLIENTS: Record<string, { role: string; audience: string; ttlSeconds: number }> = {
  billing: { role: 'sender', audience: AUDIENCE, ttlSeconds: 300 },
  elsewhere: { role: 'admin', audience: 'urn:another-service', ttlSeconds: 300 },
  forever: { role: 'admin', audience: AUDIENCE, ttlSeconds: 30 * 24 * 3600 },
  admin: { role: 'admin', audience: AUDIENCE, ttlSeconds: 300 },
};

/** The slice of oidc-provider's request context the test reads. */
interface ProviderContext {
  oidc: { client?: { clientId: string } };
}

let provider: Server;
let issuer: string;
let node: CaxtonNode;
let url: string;
let dataDir: string;

beforeAll(async () => {
  provider = createServer();
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const oidc = new Provider(issuer, {
    clients: Object.keys(CLIENTS).map((client_id) => ({
      client_id,
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    })),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test-key', use: 'sig', alg: 'ES256' }] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx: ProviderContext) => CLIENTS[ctx.oidc.client!.clientId].audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => {
          const spec = CLIENTS[client.clientId];
          return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: spec.ttlSeconds, jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId: string }) => ({ caxton_role: CLIENTS[token.clientId].role }),
  });
  provider.on('request', oidc.callback());

  dataDir = mkdtempSync(join(tmpdir(), 'caxton-oidc-'));
  const config = loadConfig({
    flags: {
      dataDir,
      logLevel: 'silent',
      apiAddr: '127.0.0.1:0',
      'auth.oidc_issuer': issuer,
      'auth.oidc_audience': AUDIENCE,
      'api.auth_failures_max': 1000,
    },
    env: {},
  });
  node = await CaxtonNode.start({ config, listen: true, gossip: false });
  url = `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await node?.stop();
  await new Promise((resolve) => provider?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A client-credentials access token from the provider's token endpoint, as a service gets one. */
async function accessToken(client: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client, client_secret: SECRET, scope: 'api' }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token for ${client}: ${JSON.stringify(body)}`);
  return body.access_token;
}

const call = async (token: string, path = '/api/v1/agents', init: RequestInit = {}) => {
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
};

describe('OAuth2/OIDC access tokens from a real OpenID provider', () => {
  it('a client-credentials token for this audience authenticates the client with the role of its claim', async () => {
    const token = await accessToken('billing');
    expect((await call(token)).status).toBe(200);
    const sent = await call(token, '/api/v1/messages', { method: 'POST', body: JSON.stringify({ performative: 'inform', receiver: 'nobody', content: 1 }) });
    expect(sent.status).toBe(202);
    const refused = await call(token, '/api/v1/agents/x', { method: 'DELETE' });
    expect(refused.status).toBe(403); // a sender may not delete agents
    node.state.audit.flush();
    expect(node.state.audit.list(10)).toContainEqual(expect.objectContaining({ principal: 'billing', action: 'DELETE /api/v1/agents/:name', outcome: 'denied' }));
  });

  it('a token for another audience is refused', async () => {
    const res = await call(await accessToken('elsewhere'));
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/audience/);
  });

  it('a token that expires further ahead than the bound is refused', async () => {
    const res = await call(await accessToken('forever'));
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/oidc_max_token_lifetime_ms/);
  });

  it('a subject that would pass for the admin key is refused', async () => {
    const res = await call(await accessToken('admin'));
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/"sub"/);
  });

  it('the issuer is required with its audience', () => {
    expect(() => loadConfig({ flags: { 'auth.oidc_issuer': issuer }, env: {} })).toThrow(/auth\.oidc_audience/);
  });
});
