// `caxton state serve --stdio` and `--http`, real processes, driven by the SDK's MCP client: the same
// tools as the built-in server, on the node's data dir, with the agent of --agent as the key scope.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/state/database.ts';
import { createSqliteStateBackend } from '../../src/tools/state/sqlite-state-backend.ts';
import { tempDir } from '../state/helpers.ts';

const CAXTON = fileURLToPath(new URL('../../bin/caxton.mjs', import.meta.url));
const dir = tempDir();
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };

beforeAll(() => openDatabase(dir.path).close());
afterAll(() => dir.remove());

async function exercise(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(['store', 'retrieve', 'delete', 'list', 'exists', 'batch_store', 'batch_retrieve']);
  const stored = await client.callTool({ name: 'store', arguments: { key: 'greeting', value: { text: 'hello' } } });
  expect(stored.structuredContent).toEqual({ ok: true });
  const read = await client.callTool({ name: 'retrieve', arguments: { key: 'greeting' } });
  expect(read.structuredContent).toEqual({ value: { text: 'hello' } });
  expect(JSON.parse((read.content as Array<{ text: string }>)[0].text)).toEqual({ value: { text: 'hello' } });
  const bad = await client.callTool({ name: 'store', arguments: { key: 7 } });
  expect(bad.isError).toBe(true);
  expect((bad.content as Array<{ text: string }>)[0].text).toMatch(/^key: expected a string/);
}

/** The values an agent has in the data dir, read straight from SQLite after the server stopped. */
function storedFor(agent: string): Promise<Map<string, string>> {
  const database = openDatabase(dir.path);
  const backend = createSqliteStateBackend(database.db);
  return backend.batchRetrieve(agent, ['greeting']).finally(() => database.close());
}

describe('caxton state serve', () => {
  it('--stdio serves the state tool to the SDK client, as the agent of --agent', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CAXTON, '--data-dir', dir.path, 'state', 'serve', '--stdio', '--agent', 'stdio-agent'],
      env,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
    expect(Object.fromEntries(await storedFor('stdio-agent'))).toEqual({ greeting: '{"text":"hello"}' });
    expect((await storedFor('http-agent')).size).toBe(0);
  });

  describe('--http', () => {
    let child: ChildProcess;
    let url: string;
    const token = 'a-token-of-enough-length-0123456789';

    beforeAll(async () => {
      const tokenFile = join(dir.path, 'token');
      writeFileSync(tokenFile, `${token}\n`);
      child = spawn(process.execPath, [CAXTON, '--data-dir', dir.path, 'state', 'serve', '--http', '127.0.0.1:0', '--agent', 'http-agent', '--bearer-token-file', tokenFile], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const match = /at (http:\/\/\S+\/mcp)/.exec(text);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`caxton state serve exited with ${code}: ${text}`)));
      });
    }, 60_000);

    afterAll(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    });

    it('serves the state tool over streamable HTTP to the SDK client with the bearer token', async () => {
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      try {
        await exercise(client);
      } finally {
        await client.close();
      }
    });

    it('refuses a request without the token before reading it, and answers garbage with 400', async () => {
      const anonymous = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(anonymous.status).toBe(401);
      const garbage = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{nope' });
      expect(garbage.status).toBe(400);
      const elsewhere = await fetch(url.replace('/mcp', '/other'), { method: 'POST', body: '{}' });
      expect(elsewhere.status).toBe(404);
      const huge = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: Buffer.alloc(18 * 1024 * 1024, 32) }).catch((error: Error) => error);
      // 413, or the connection closed while the client was still sending: either way nothing was buffered.
      if (!(huge instanceof Error)) expect(huge.status).toBe(413);
    });

    it('stops on SIGTERM', async () => {
      child.kill('SIGTERM');
      const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(0);
      expect(Object.fromEntries(await storedFor('http-agent'))).toEqual({ greeting: '{"text":"hello"}' });
    });
  });
});
