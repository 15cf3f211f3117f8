// Review finding: while an issuer's key set could not be fetched, every request carrying anything shaped like a
// JWT cost an outbound fetch and a warning with its stack, and, a 503 not being a failed login, its source was
// never blocked: 2,000 unauthenticated requests from one address to a real node made 2,000 fetches and wrote
// 2,000 warnings. Now a failed fetch is tried again auth.jwks_retry_ms later, whatever arrives meanwhile.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../../src/node/jwt-auth.ts';

const ISSUER_PATH = '/realm';

let signingKey: CryptoKey;
let publicJwk: JWK;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An issuer serving its discovery document and JWKS, or 500 for both while `down`; counts every request. */
async function issuer(): Promise<{ url: string; requests: () => number; setDown(down: boolean): void }> {
  let down = true;
  let requests = 0;
  let url = '';
  const server = createServer((request, response) => {
    requests++;
    response.setHeader('content-type', 'application/json');
    if (down) {
      response.statusCode = 500;
      response.end('{}');
    } else if (request.url === `${ISSUER_PATH}/.well-known/openid-configuration`) {
      response.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    } else {
      response.end(JSON.stringify({ keys: [publicJwk] }));
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${ISSUER_PATH}`;
  return { url, requests: () => requests, setDown: (value) => (down = value) };
}

const token = (iss: string): Promise<string> =>
  new SignJWT({ role: 'viewer' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(iss).setSubject('svc').setExpirationTime('5m').sign(signingKey);

for (const mode of ['jwksUrl', 'discover'] as const) {
  describe(`a key set that cannot be fetched (${mode})`, () => {
    it('is fetched again only auth.jwks_retry_ms after the failure, however many tokens arrive meanwhile', async () => {
      const idp = await issuer();
      // The node's clock, moved by hand (the token's exp is 5 min ahead of it).
      let nowMs = Date.now();
      const reported: unknown[] = [];
      const auth = new JwtAuthenticator({
        issuer: idp.url,
        ...(mode === 'jwksUrl' ? { jwksUrl: `${idp.url}/jwks` } : { discover: true }),
        roleClaim: 'role',
        keySetRetryMs: 5000,
        onJwksError: (error) => reported.push(error),
        now: () => new Date(nowMs),
      });
      const signed = await token(idp.url);
      for (let i = 0; i < 200; i++) {
        await expect(auth.authenticate(signed)).rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503 });
      }
      expect(idp.requests()).toBe(1);
      expect(reported).toHaveLength(1);
      // The issuer is back: nothing is fetched before the retry time, and the first token after it is verified.
      idp.setDown(false);
      nowMs += 4_000;
      await expect(auth.authenticate(signed)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(idp.requests()).toBe(1);
      nowMs += 1_001;
      await expect(auth.authenticate(signed)).resolves.toMatchObject({ id: 'svc', role: 'viewer', via: 'jwt' });
      expect(idp.requests()).toBe(mode === 'jwksUrl' ? 2 : 3);
    });
  });
}
