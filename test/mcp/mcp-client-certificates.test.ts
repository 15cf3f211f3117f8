// Client certificates, the API's third way to authenticate, reach Caxton's MCP tools both ways: POST /mcp over
// https with a certificate mapped to `deployer`, and `caxton mcp serve --stdio --cacert --cert --key`. A real
// node in this process with a PKI made in the test.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { exampleModule } from '../helpers/modules.ts';
import { cliPath } from '../helpers/node-process.ts';
import { createTestCa } from '../helpers/test-certificates.ts';

let node: CaxtonNode;
let dir: string;
let url: string;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caxton-mcp-tls-'));
  const ca = await createTestCa();
  const server = await ca.issue('localhost', { server: true });
  const client = await ca.issue('ci-bot');
  for (const [name, text] of Object.entries({ ca: ca.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key })) {
    files[name] = join(dir, `${name}.pem`);
    writeFileSync(files[name], text);
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
  url = `https://127.0.0.1:${(node.api!.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One JSON-RPC message to /mcp over https with the client certificate, its parsed answer. */
function postMcp(message: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/mcp`,
      {
        method: 'POST',
        ca: readFileSync(files.ca),
        cert: readFileSync(files.clientCert),
        key: readFileSync(files.clientKey),
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(message));
  });
}

const toolCall = (name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });

describe('MCP with a client certificate', () => {
  it('POST /mcp over https: the certificate principal deploys as deployer and may not send', async () => {
    const deployed = await postMcp(toolCall('deploy_agent', { name: 'cert-echo', module_base64: Buffer.from(exampleModule('echo')).toString('base64') }));
    expect(deployed.status).toBe(200);
    const result = deployed.body.result as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ agent: { name: 'cert-echo' } });

    const send = (await postMcp(toolCall('send_message', { receiver: 'cert-echo', performative: 'request' }))).body.result as CallToolResult;
    expect(send.isError).toBe(true);
    expect((send.content as { text: string }[])[0].text).toMatch(/^PERMISSION_DENIED: role 'deployer'/);
  });

  it('caxton mcp serve --stdio with --cacert/--cert/--key', async () => {
    const client = new Client({ name: 'cert-test', version: '1.0.0' });
    const env = { ...(process.env as Record<string, string>) };
    delete env.CAXTON_API_KEY;
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [cliPath, 'mcp', 'serve', '--stdio', '--server', url, '--cacert', files.ca, '--cert', files.clientCert, '--key', files.clientKey, '--data-dir', join(dir, 'none')],
        env,
        stderr: 'pipe',
      }),
    );
    try {
      const listed = (await client.callTool({ name: 'list_agents', arguments: {} })) as CallToolResult;
      expect(listed.isError, JSON.stringify(listed.content)).toBeFalsy();
      expect((listed.structuredContent as { agents: { name: string }[] }).agents.map((a) => a.name)).toContain('cert-echo');
    } finally {
      await client.close();
    }
  });
});
