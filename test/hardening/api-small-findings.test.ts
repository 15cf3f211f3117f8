// Issue 10, the API/CLI items of "Also": CAXTON_DATA_DIR (documented by the CLI) stopped the server with
// `unknown key data.dir`; api.max_wait_ms could not be raised (the route capped wait_ms at a fixed 60,000);
// a non-streaming wait_ms went on after its client had gone; `caxton agent deploy` took any 409 as "exists,
// so upgrade".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonError } from '../../src/errors.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { agentModule } from '../agents/fixtures.ts';
import { FakeNodeServices } from '../api/fake-services.ts';
import { makeApi, WASM } from '../api/helpers.ts';
import { caxton } from '../cli/run.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(settings: Record<string, unknown> = {}): Promise<{ node: CaxtonNode; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-small-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', ...settings }, env: {} });
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  cleanups.push(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { node, url: `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}` };
}

/** An agent that takes every message and never answers. */
const silentAgent = (): Promise<Uint8Array> => agentModule(() => ({ handle: '(i32.const 0)' }));

describe('CAXTON_DATA_DIR', () => {
  it('names the node data dir, as the CLI documents, instead of stopping start-up', () => {
    expect(loadConfig({ env: { CAXTON_DATA_DIR: '/srv/caxton' } }).node.data_dir).toBe('/srv/caxton');
    // The node's own variable wins when both are set.
    expect(loadConfig({ env: { CAXTON_DATA_DIR: '/srv/a', CAXTON_NODE_DATA_DIR: '/srv/b' } }).node.data_dir).toBe('/srv/b');
  });
});

describe('wait_ms', () => {
  it('api.max_wait_ms raised above 60,000 is what the route accepts', async () => {
    const { node, url } = await startNode({ 'api.max_wait_ms': 120_000 });
    const res = await fetch(`${url}/api/v1/messages?wait_ms=90000`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.state.adminKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ performative: 'request', receiver: 'nobody', content: 'x' }),
    });
    expect(res.status).toBe(200); // answered at once: the failure for an unknown receiver
    const over = await fetch(`${url}/api/v1/messages?wait_ms=120001`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.state.adminKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ performative: 'request', receiver: 'nobody', content: 'x' }),
    });
    expect(over.status).toBe(400);
  });

  it('a client that disconnects ends its wait', async () => {
    const { node, url } = await startNode();
    await node.deployAgent({ name: 'silent' }, await silentAgent());
    const req = httpRequest(`${url}/api/v1/messages?wait_ms=60000`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.state.adminKey.key}`, 'content-type': 'application/json' },
    });
    req.on('error', () => {});
    req.end(JSON.stringify({ performative: 'request', receiver: 'silent', content: 'x' }));
    await expect.poll(() => node.inbox.waiting, { timeout: 5000 }).toBe(1);
    req.destroy();
    await expect.poll(() => node.inbox.waiting, { timeout: 5000 }).toBe(0);
  });
});

describe('caxton agent deploy', () => {
  it('upgrades only when the name exists, not on another conflict', async () => {
    const services = new FakeNodeServices();
    services.deployAgent = async (spec) => {
      throw new CaxtonError('CONFLICT', `agent "${spec.name}" is being changed by another request; try again`, { name: spec.name, reason: 'busy' });
    };
    let upgrades = 0;
    services.upgradeAgent = async () => {
      upgrades++;
      throw new Error('must not be called');
    };
    const { app } = makeApi({ services });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const dir = mkdtempSync(join(tmpdir(), 'caxton-deploy-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.wasm'), WASM);
    const env = { CAXTON_SERVER: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, CAXTON_API_KEY: 'admin-key' };
    const result = await caxton(['agent', 'deploy', join(dir, 'a.wasm'), '--name', 'echo'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/being changed by another request/);
    expect(upgrades).toBe(0);
  });
});
