// Review finding: a JWT `sub` of 250–256 characters was accepted, but its messages' sender `client:<sub>` was
// longer than the 256 characters an address may have: the echo agent's reply was refused ("receiver: Too big")
// and the client waited in silence, with no failure and no dead letter. Against the real node.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { agentWorkersEnv } from '../helpers/agent-workers.ts';
import { exampleModule } from '../helpers/modules.ts';

const ISSUER = 'https://issuer.test/';
const SECRET = 'a-shared-secret-of-at-least-32-characters!';
let node: CaxtonNode;
let url: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-jwt-sub-'));
  const config = loadConfig({
    flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', 'auth.jwt_issuer': ISSUER, 'auth.jwt_secret': SECRET },
    env: agentWorkersEnv(),
  });
  node = await CaxtonNode.start({ config, listen: true, gossip: false });
  url = `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
  await node.deployAgent({ name: 'echo', capabilities: [] }, exampleModule('echo'));
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const token = (sub: string): Promise<string> =>
  new SignJWT({ caxton_role: 'sender' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

/** A request to echo, waiting for its reply (bounded by wait_ms, never asserted on time). */
async function askEcho(sub: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/v1/messages?wait_ms=10000`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token(sub)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ performative: 'request', receiver: 'echo', content: { hi: 1 } }),
  });
  return { status: res.status, body: await res.json() };
}

describe('JWT subject length', () => {
  it('takes the longest subject whose client:<sub> is still an address, and echo answers it', async () => {
    const { status, body } = await askEcho('u'.repeat(249));
    expect(status).toBe(200);
    expect(body.replies).toHaveLength(1);
    expect(body.replies[0]).toMatchObject({ sender: 'echo', receiver: `client:${'u'.repeat(249)}` });
  });

  it.each([250, 256])('refuses a %i-character subject with 401 naming the claim', async (length) => {
    const { status, body } = await askEcho('u'.repeat(length));
    expect(status).toBe(401);
    expect(body.error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/"sub"/), details: { field: 'sub' } });
  });
});
