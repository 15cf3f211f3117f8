// A real Caxton node in this process (CaxtonNode.start with its REST API on 127.0.0.1:0), with the helpers
// the conversation tests share: calls as the admin, deploying the built example agents, reading events.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { exampleModule } from '../helpers/modules.ts';
import { agentWorkersEnv } from '../helpers/agent-workers.ts';

export interface TestNode {
  node: CaxtonNode;
  url: string;
  key: string;
  dataDir: string;
  /** JSON in, JSON (or text) out, as the admin. */
  api(path: string, init?: { method?: string; json?: unknown }): Promise<{ status: number; body: any }>;
  /** Deploys the built example `example` as `name`. */
  deploy(name: string, example: string, capabilities?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestNode(settings: Record<string, unknown> = {}): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-conv-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', ...settings }, env: agentWorkersEnv() });
  // Single-node tests: no gossip port (several test files run at once).
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  const { port } = node.api!.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const key = node.state.adminKey.key;
  const api: TestNode['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  };
  return {
    node,
    url,
    key,
    dataDir,
    api,
    async deploy(name, example, capabilities = []) {
      await node.deployAgent({ name, capabilities }, exampleModule(example));
    },
    async stop() {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds (rows reach SQLite by group commit, a few ms after routing). */
export async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
