// The API over TLS (api.tls_cert, api.tls_key, reloaded without a restart) and client certificates as the third
// way to authenticate (api.tls_client_ca, api.tls_client_roles), with the CLI's --cacert/--cert/--key. A real
// node in this process, a PKI made in the test.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { caxton } from '../cli/run.ts';
import { createTestCa, type Pem, type TestCa } from '../helpers/test-certificates.ts';

let node: CaxtonNode;
let dir: string;
let url: string;
let port: number;
let ca: TestCa;
const files: Record<string, string> = {};

function write(name: string, text: string): string {
  const path = join(dir, name);
  // Renamed into place, as certbot and cert-manager do: a reader never sees half a file.
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caxton-tls-'));
  ca = await createTestCa();
  const server = await ca.issue('localhost', { server: true });
  files.ca = write('ca.pem', ca.cert);
  files.serverCert = write('server.pem', server.cert);
  files.serverKey = write('server.key', server.key);
  for (const [name, pem] of [
    ['deployer', await ca.issue('ci-bot')],
    ['stranger', await ca.issue('stranger')],
    ['rogue', await (await createTestCa('Rogue CA')).issue('ci-bot')],
  ] as [string, Pem][]) {
    files[`${name}Cert`] = write(`${name}.pem`, pem.cert);
    files[`${name}Key`] = write(`${name}.key`, pem.key);
  }
  const config = loadConfig({
    flags: {
      dataDir: join(dir, 'data'),
      logLevel: 'silent',
      apiAddr: '127.0.0.1:0',
      'api.tls_cert': files.serverCert,
      'api.tls_key': files.serverKey,
      'api.tls_client_ca': files.ca,
      'api.tls_client_roles': ['ci-bot=deployer'],
    },
    env: {},
  });
  node = await CaxtonNode.start({ config, listen: true, gossip: false });
  port = (node.api!.server.address() as AddressInfo).port;
  url = `https://127.0.0.1:${port}`;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** GET over https with a client certificate (or none); the status and the parsed body. */
function get(path: string, client?: 'deployer' | 'stranger' | 'rogue', headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        ca: pem(files.ca),
        ...(client ? { cert: pem(files[`${client}Cert`]), key: pem(files[`${client}Key`]) } : {}),
        headers,
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const pem = (path: string): Buffer => readFileSync(path);

describe('API over TLS with client certificates', () => {
  it('a client certificate the config names authenticates as its principal and role', async () => {
    expect((await get('/api/v1/agents', 'deployer')).status).toBe(200);
    const denied = await get('/api/v1/security/api-keys', 'deployer');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'PERMISSION_DENIED', details: { role: 'deployer' } });
  });

  it('no certificate, an unnamed subject, or a CA the node does not trust: no principal (401)', async () => {
    expect((await get('/api/v1/agents')).status).toBe(401);
    expect((await get('/api/v1/agents', 'stranger')).status).toBe(401);
    expect((await get('/api/v1/agents', 'rogue')).status).toBe(401);
  });

  it('API keys keep working on the same port', async () => {
    expect((await get('/api/v1/agents', undefined, { authorization: `Bearer ${node.state.adminKey.key}` })).status).toBe(200);
  });

  it('the CLI takes --cacert, --cert and --key (and says what to do without --cacert)', async () => {
    const env = { CAXTON_SERVER: url };
    const ok = await caxton(['--cacert', files.ca, '--cert', files.deployerCert, '--key', files.deployerKey, 'agents', 'list', '--output', 'json'], env);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const viaEnv = await caxton(['agents', 'list', '--output', 'json'], { ...env, CAXTON_CACERT: files.ca, CAXTON_CERT: files.deployerCert, CAXTON_KEY: files.deployerKey });
    expect(viaEnv.code).toBe(0);
    const untrusted = await caxton(['agents', 'list'], env);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/--cacert/);
  });

  it('a renewed certificate is served to new connections without a restart', async () => {
    const peer = (): Promise<PeerCertificate> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: pem(files.ca), servername: 'localhost' }, () => {
          resolve(socket.getPeerCertificate());
          socket.end();
        });
        socket.on('error', reject);
      });
    const before = (await peer()).serialNumber;
    const renewed = await ca.issue('localhost', { server: true });
    write('server.key', renewed.key);
    write('server.pem', renewed.cert);
    await expect.poll(async () => (await peer()).serialNumber, { timeout: 15_000, interval: 250 }).not.toBe(before);
    expect((await get('/api/v1/agents', 'deployer')).status).toBe(200);
  });

  it('TLS settings that cannot act alone stop start-up naming the key', () => {
    const load = (flags: Record<string, unknown>) => () => loadConfig({ flags, env: {} });
    expect(load({ 'api.tls_cert': 'a.pem' })).toThrow(/api\.tls_key/);
    expect(load({ 'api.tls_client_ca': 'ca.pem' })).toThrow(/api\.tls_client_ca/);
    expect(load({ 'api.tls_cert': 'a', 'api.tls_key': 'b', 'api.tls_client_ca': 'c', 'api.tls_client_roles': ['bob=root'] })).toThrow(ConfigError);
    expect(load({ 'api.tls_cert': 'a', 'api.tls_key': 'b', 'api.tls_client_ca': 'c', 'api.tls_client_roles': ['bob=admin:admin'] })).toThrow(/tls_client_roles/);
  });
});
