// Issue 2's "done when", tried as a new user would: a real node process, the CLI, the REST API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.ts';
import { startNode, runCli, type NodeProcess } from '../helpers/node-process.ts';
import { exampleModule, exampleWasm, watFixture } from '../helpers/modules.ts';

let node: NodeProcess;
let key: string;

const { api, deploy } = apiClient(() => ({ url: node.url, key }));


beforeAll(async () => {
  node = await startNode();
  key = node.apiKey();
});

afterAll(async () => {
  await node?.kill('SIGTERM');
});

describe('a new user on a fresh clone', () => {
  it('deploys the echo example with the CLI and gets its reply with message send --wait', async () => {
    const env = { CAXTON_SERVER: node.url, CAXTON_API_KEY: key };
    const deployed = await runCli(['agent', 'deploy', exampleWasm('echo'), '--name', 'echo'], env);
    expect(deployed.code, deployed.stderr).toBe(0);
    const sent = await runCli(
      ['message', 'send', '--to', 'echo', '--performative', 'request', '--content', '{"x":1}', '--wait', '2000'],
      env,
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('inform');
    expect(sent.stdout).toContain('"x"');
  });

  it('runs an agent written in WAT from the ABI alone: inform with the right conversation_id and in_reply_to', async () => {
    expect((await deploy('wat-echo', await exampleModule('wat-echo'))).status).toBe(201);
    const { status, body } = await api('/api/v1/messages?wait_ms=2000', {
      method: 'POST',
      json: { performative: 'request', receiver: 'wat-echo', content: { n: 7 }, reply_with: 'r-1', conversation_id: 'conv-wat-1' },
    });
    expect(status).toBe(200);
    expect(body.replies).toHaveLength(1);
    const reply = body.replies[0];
    expect(reply.performative).toBe('inform');
    expect(reply.sender).toBe('wat-echo');
    expect(reply.conversation_id).toBe('conv-wat-1');
    expect(reply.in_reply_to).toBe('r-1');
  });

  it('answers a request to an agent that does not exist with AGENT_NOT_FOUND', async () => {
    const { status, body } = await api('/api/v1/messages?wait_ms=1000', {
      method: 'POST',
      json: { performative: 'request', receiver: 'nobody-here', content: {} },
    });
    expect(status).toBe(200);
    expect(body.replies[0].performative).toBe('failure');
    expect(body.replies[0].content.error.code).toBe('AGENT_NOT_FOUND');
  });
});

describe('bad input gets a 4xx naming the field and leaves nothing half-written', () => {
  async function agentNames(): Promise<string[]> {
    const { body } = await api('/api/v1/agents');
    return body.agents.map((a: { name: string }) => a.name);
  }

  it('refuses a request without a key (401)', async () => {
    const response = await fetch(`${node.url}/api/v1/agents`);
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses malformed JSON', async () => {
    const { status, body } = await api('/api/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"performative": "request",',
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe('INVALID_ARGUMENT');
  });

  it('refuses an unknown performative, naming it', async () => {
    const { status, body } = await api('/api/v1/messages', {
      method: 'POST',
      json: { performative: 'shout', receiver: 'echo' },
    });
    expect(status).toBe(400);
    expect(body.error.message).toContain('performative');
  });

  it('refuses an unknown field, naming it', async () => {
    const { status, body } = await api('/api/v1/messages', {
      method: 'POST',
      json: { performative: 'inform', receiver: 'echo', colour: 'red' },
    });
    expect(status).toBe(400);
    expect(body.error.message).toContain('colour');
  });

  it('refuses a body over the limit (413)', async () => {
    const huge = 'a'.repeat(1024 * 1024 + 4096); // just over the 1 MiB message limit
    const { status, body } = await api('/api/v1/messages', {
      method: 'POST',
      json: { performative: 'inform', receiver: 'echo', content: huge },
    });
    expect(status).toBe(413);
    expect(body.error.code).toBe('TOO_LARGE');
  });

  it('refuses bytes that are not wasm', async () => {
    const before = await agentNames();
    const { status, body } = await deploy('not-wasm', new TextEncoder().encode('hello, not a module'));
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/WebAssembly/i);
    expect(await agentNames()).toEqual(before);
  });

  it('refuses a module importing env.system, naming the import', async () => {
    const before = await agentNames();
    const { status, body } = await deploy('system-caller', await watFixture('imports-env-system'));
    expect(status).toBe(400);
    expect(body.error.message).toContain('env.system');
    expect(await agentNames()).toEqual(before);
  });

  it('refuses an agent name like ../etc, naming the field', async () => {
    const { status, body } = await deploy('../etc', await exampleModule('wat-echo'));
    expect(status).toBe(400);
    expect(body.error.message).toContain('name');
    expect(await agentNames()).not.toContain('../etc');
  });
});

describe('durability', () => {
  it('brings its agents back after SIGKILL on the same data dir', async () => {
    expect((await deploy('survivor', await exampleModule('wat-echo'))).status).toBe(201);
    const dataDir = node.dataDir;
    const apiPort = node.apiPort;
    const gossipPort = node.gossipPort;
    await node.kill('SIGKILL');
    node = await startNode({ dataDir, apiPort, gossipPort });
    expect(node.apiKey()).toBe(key);
    const { body } = await api('/api/v1/messages?wait_ms=2000', {
      method: 'POST',
      json: { performative: 'request', receiver: 'survivor', content: { again: true } },
    });
    expect(body.replies?.[0]?.performative).toBe('inform');
    const list = await api('/api/v1/agents');
    expect(list.body.agents.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['echo', 'wat-echo', 'survivor']));
  });
});
