// Review finding: malformed multipart uploads answered 500 INTERNAL (the multipart parser's errors carry no
// status) or 406 without the field: no boundary, a body cut short, a `spec` part declared application/json
// that is not JSON. A client's bytes are never the node's fault: 400 naming `body` or `spec`. Against the real
// node's API, as a deployer.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { agentWorkersEnv } from '../helpers/agent-workers.ts';
import { exampleModule } from '../helpers/modules.ts';

let node: CaxtonNode;
let url: string;
let dataDir: string;
let deployerKey: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-multipart-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0' }, env: agentWorkersEnv() });
  node = await CaxtonNode.start({ config, listen: true, gossip: false });
  url = `http://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
  deployerKey = node.createApiKey('deployer', 'ci').key;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function upload(contentType: string, body: Buffer | string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${deployerKey}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, body: await res.json() };
}

const part = (headers: string, content: Buffer | string): Buffer => Buffer.concat([Buffer.from(`--X\r\n${headers}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n')]);
const END = Buffer.from('--X--\r\n');

describe('malformed multipart uploads', () => {
  it.each([
    ['no boundary', 'body', 'multipart/form-data', 'garbage'],
    [
      'a body cut short',
      'body',
      'multipart/form-data; boundary=X',
      '--X\r\nContent-Disposition: form-data; name="module"; filename="a.wasm"\r\n\r\nabc',
    ],
    [
      'a spec part declared JSON that is not',
      'spec',
      'multipart/form-data; boundary=X',
      Buffer.concat([part('Content-Disposition: form-data; name="spec"\r\nContent-Type: application/json', '{bad'), END]),
    ],
  ] as Array<[string, string, string, Buffer | string]>)('%s → 400 INVALID_ARGUMENT naming %s', async (_case, field, type, body) => {
    const res = await upload(type, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
    expect(node.listAgents()).toEqual([]);
  });

  it('takes a spec part declared application/json when it is JSON', async () => {
    const body = Buffer.concat([
      part('Content-Disposition: form-data; name="spec"\r\nContent-Type: application/json', '{"name":"json-spec"}'),
      part('Content-Disposition: form-data; name="module"; filename="echo.wasm"\r\nContent-Type: application/wasm', Buffer.from(exampleModule('echo'))),
      END,
    ]);
    const res = await upload('multipart/form-data; boundary=X', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'json-spec' });
  });
});
