// Verified JWTs are remembered until their `exp` (a signature check per request would make a JWT client's every
// call cost more than the call), and never past it.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../../src/node/jwt-auth.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';

describe('JwtAuthenticator cache', () => {
  it('a verified token is known until it expires, then refused as expired', async () => {
    let now = new Date('2026-06-01T00:00:00Z');
    const auth = new JwtAuthenticator({ issuer: 'https://i/', secret: SECRET, roleClaim: 'caxton_role', now: () => now });
    const token = await new SignJWT({ caxton_role: 'viewer' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://i/')
      .setSubject('alice')
      .setExpirationTime(Math.floor(now.getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(auth.known(token)).toBeUndefined();
    expect(await auth.authenticate(token)).toEqual({ id: 'alice', role: 'viewer', via: 'jwt' });
    expect(auth.known(token)).toEqual({ id: 'alice', role: 'viewer', via: 'jwt' });
    now = new Date(now.getTime() + 61_000);
    expect(auth.known(token)).toBeUndefined();
    await expect(auth.authenticate(token)).rejects.toThrow(/expired/);
  });
});
