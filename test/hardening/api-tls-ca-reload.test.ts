// Review finding: a reloaded api.tls_client_ca applied to new handshakes only. A keep-alive connection whose
// client certificate was verified under the old bundle kept its principal for as long as it stayed open: with
// its CA removed from the bundle (to cut those clients off), a deployer's connection went on answering 200. Now
// such a connection is checked once against the new bundle; one that still chains to it (a renewal that keeps
// the CA) goes on. A real node in this process, a PKI made in the test.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { createTestCa } from '../helpers/test-certificates.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a reloaded client CA bundle', () => {
  it('applies to connections already open, not only to new handshakes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caxton-tls-ca-reload-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
      return path;
    };
    const oldCa = await createTestCa('Old Clients CA');
    const newCa = await createTestCa('New Clients CA');
    const server = await oldCa.issue('localhost', { server: true });
    const client = await oldCa.issue('ci-bot');
    const caFile = write('clients-ca.pem', oldCa.cert);
    const config = loadConfig({
      flags: {
        dataDir: join(dir, 'data'),
        logLevel: 'silent',
        apiAddr: '127.0.0.1:0',
        'api.tls_cert': write('server.pem', server.cert),
        'api.tls_key': write('server.key', server.key),
        'api.tls_client_ca': caFile,
        'api.tls_client_roles': ['ci-bot=deployer'],
      },
      env: {},
    });
    const node = await CaxtonNode.start({ config, listen: true, gossip: false });
    cleanups.push(() => node.stop());
    const port = (node.api!.server.address() as AddressInfo).port;
    const tls = { ca: Buffer.from(oldCa.cert), cert: Buffer.from(client.cert), key: Buffer.from(client.key) };
    // One keep-alive connection, reused for every request below.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => keepAlive.destroy());
    const get = (agent: Agent | false): Promise<{ status: number; socket: Socket }> =>
      new Promise((resolve, reject) => {
        const req = request(`https://127.0.0.1:${port}/api/v1/agents`, { ...tls, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: res.socket }));
        });
        req.on('error', reject);
        req.end();
      });

    const first = await get(keepAlive);
    expect(first.status).toBe(200);
    // Reloaded with the old CA still in the bundle (a renewal adding the next CA): the connection goes on.
    write('clients-ca.pem', `${oldCa.cert.trimEnd()}\n${newCa.cert}`);
    await new Promise((r) => setTimeout(r, 3_000)); // the files are polled every 2 s
    expect((await get(false)).status).toBe(200);
    const kept = await get(keepAlive);
    expect(kept.socket).toBe(first.socket);
    expect(kept.status).toBe(200);
    // The old CA removed: a new handshake with its certificate is no principal...
    write('clients-ca.pem', newCa.cert);
    await expect.poll(async () => (await get(false)).status, { timeout: 15_000, interval: 250 }).toBe(401);
    // ...and neither is the connection verified under it before.
    const after = await get(keepAlive);
    expect(after.socket).toBe(first.socket);
    expect(after.status).toBe(401);
    readFileSync(caFile); // still there for the node's watcher until it stops
  }, 40_000);
});
