// `caxton security api-keys create|list|revoke` against a real node in this process: the key is printed once,
// works with its role, and is refused at once when revoked; only admin manages keys; every change is audited.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { caxton } from '../cli/run.ts';

let node: CaxtonNode;
let url: string;
let dataDir: string;
let admin: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-keys-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0' }, env: {} });
  node = await CaxtonNode.start({ config, listen: true, gossip: false });
  url = `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
  admin = { CAXTON_SERVER: url, CAXTON_API_KEY: node.state.adminKey.key };
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const status = async (key: string, path = '/api/v1/agents', method = 'GET'): Promise<number> =>
  (await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}` } })).status;

describe('caxton security api-keys', () => {
  it('create prints the key once; it works with its role; list shows it without the key; revoke refuses it at once', async () => {
    const created = await caxton(['security', 'api-keys', 'create', '--role', 'sender', '--name', 'ci-bot'], admin);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^created API key 'ci-bot' \(role sender\); it is shown only this once:\ncxk_[A-Za-z0-9_-]{43}\n$/);
    const key = created.stdout.trim().split('\n')[1];

    expect(await status(key)).toBe(200);
    expect(await status(key, '/api/v1/dead-letters', 'DELETE')).toBe(403); // a sender may not purge

    const list = await caxton(['security', 'api-keys', 'list'], admin);
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+ROLE\s+CREATED$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 2))).toEqual([
      ['admin', 'admin'],
      ['ci-bot', 'sender'],
    ]);
    expect(list.stdout).not.toContain(key);

    const revoked = await caxton(['security', 'api-keys', 'revoke', 'ci-bot'], admin);
    expect(revoked).toMatchObject({ code: 0, stdout: "revoked API key 'ci-bot'\n" });
    expect(await status(key)).toBe(401);
    const refused = await caxton(['agents', 'list'], { CAXTON_SERVER: url, CAXTON_API_KEY: key });
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/^error: UNAUTHENTICATED/)]);

    node.state.audit.flush();
    const audit = node.state.audit.list(20).filter((a) => a.action.includes('/security/api-keys'));
    expect(audit).toEqual([
      // newest first
      expect.objectContaining({ principal: 'admin', action: 'DELETE /api/v1/security/api-keys/:name', target: 'ci-bot', outcome: 'ok' }),
      expect.objectContaining({ principal: 'admin', action: 'POST /api/v1/security/api-keys', target: 'ci-bot', outcome: 'ok' }),
    ]);
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('--output json gives the key to scripts', async () => {
    const run = await caxton(['--output', 'json', 'security', 'api-keys', 'create', '--role', 'viewer', '--name', 'dash'], admin);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ name: 'dash', role: 'viewer', key: expect.stringMatching(/^cxk_/) });
    const listed = JSON.parse((await caxton(['--output', 'json', 'security', 'api-keys', 'list'], admin)).stdout);
    expect(listed.api_keys.find((k: { name: string }) => k.name === 'dash')).toEqual({ name: 'dash', role: 'viewer', created_at: expect.any(String) });
  });

  it('only admin manages keys: an operator gets 403, audited as denied', async () => {
    const operator = await caxton(['--output', 'json', 'security', 'api-keys', 'create', '--role', 'operator', '--name', 'ops'], admin);
    const key = JSON.parse(operator.stdout).key as string;
    const env = { CAXTON_SERVER: url, CAXTON_API_KEY: key };
    for (const args of [
      ['create', '--role', 'admin', '--name', 'escalate'],
      ['list'],
      ['revoke', 'dash'],
    ]) {
      const run = await caxton(['security', 'api-keys', ...args], env);
      expect([run.code, run.stderr]).toEqual([1, expect.stringMatching(/^error: PERMISSION_DENIED: role 'operator' lacks the permission 'security:api-keys'/)]);
    }
    node.state.audit.flush();
    expect(node.state.audit.list(3).every((a) => a.principal === 'ops' && a.outcome === 'denied')).toBe(true);
  });

  it('refuses a taken name, a bad name or role, an unknown key, and revoking admin.key', async () => {
    const taken = await caxton(['security', 'api-keys', 'create', '--role', 'viewer', '--name', 'dash'], admin);
    expect([taken.code, taken.stderr]).toEqual([1, expect.stringMatching(/^error: CONFLICT: an API key named 'dash' exists already/)]);

    const badRole = await caxton(['security', 'api-keys', 'create', '--role', 'root', '--name', 'x'], admin);
    expect([badRole.code, badRole.stderr]).toEqual([2, expect.stringContaining("Allowed choices are admin, operator, deployer, sender, viewer")]);

    const badName = await caxton(['security', 'api-keys', 'create', '--role', 'viewer', '--name', '../etc'], admin);
    expect([badName.code, badName.stderr]).toEqual([1, expect.stringMatching(/^error: INVALID_ARGUMENT: name: expected 1-64 characters/)]);

    const unknown = await caxton(['security', 'api-keys', 'revoke', 'nobody'], admin);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/^error: NOT_FOUND: no API key named 'nobody'/)]);

    const adminKey = await caxton(['security', 'api-keys', 'revoke', 'admin'], admin);
    expect([adminKey.code, adminKey.stderr]).toEqual([1, expect.stringMatching(/^error: CONFLICT: the key 'admin' is this node's admin.key/)]);
    expect(await status(node.state.adminKey.key)).toBe(200);
  });
});
