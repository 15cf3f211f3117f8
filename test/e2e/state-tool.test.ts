// Issue 11's state tool from an agent's side, on a real node: an AssemblyScript agent
// (examples/agents/tool-relay) granted `state: [store, retrieve]` stores and reads back a value; another
// agent cannot read it; `delete` outside the grant is -4 with an audit row. On the node's SQLite and on
// PostgreSQL; with PostgreSQL, the value written on node A is read by the same agent on node B.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.ts';
import { exampleModule } from '../helpers/modules.ts';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const postgresMissing = postgresUnavailableReason();
if (postgresMissing) console.warn(`\n*** SKIPPING the state tool e2e tests on PostgreSQL: ${postgresMissing} ***\n`);

const GRANT = { state: ['store', 'retrieve'] };

function client(node: () => NodeProcess) {
  const { api, deploy } = apiClient(() => ({ url: node().url, key: node().apiKey() }));
  const call = async (agent: string, tool: string, args: Record<string, unknown>) => {
    const { status, body } = await api('/api/v1/messages?wait_ms=15000', {
      method: 'POST',
      json: { performative: 'request', receiver: agent, content: { server: 'state', tool, arguments: args } },
    });
    expect(status).toBe(200);
    expect(body.replies, JSON.stringify(body)).toHaveLength(1);
    return body.replies[0].content as { outcome: string; result?: any; code?: number };
  };
  return { api, deploy, call };
}

function deniedRows(node: NodeProcess): string[] {
  const db = new Database(join(node.dataDir, 'caxton.db'), { readonly: true });
  try {
    return (db.prepare("SELECT principal, target FROM audit_log WHERE action = 'call_tool' AND outcome = 'denied'").all() as Array<{ principal: string; target: string }>).map(
      (r) => `${r.principal} ${r.target}`,
    );
  } finally {
    db.close();
  }
}

const backends: Array<{ name: 'sqlite' | 'postgres'; skip: boolean }> = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: postgresMissing !== null },
];

describe.each(backends)('the state tool on $name', ({ name, skip }) => {
  let postgres: PostgresServer | undefined;
  let env: Record<string, string> = {};
  let node: NodeProcess;
  const { api, deploy, call } = client(() => node);

  beforeAll(async () => {
    if (skip) return;
    if (name === 'postgres') {
      postgres = await startPostgres();
      env = { CAXTON_STATE_BACKEND: 'postgres', CAXTON_STATE_POSTGRES_URL: await postgres.createDatabase('state_e2e') };
    }
    node = await startNode({ env });
    const relay = await exampleModule('tool-relay');
    expect((await deploy('keeper', relay, { tools: GRANT })).status).toBe(201);
    expect((await deploy('snoop', relay, { tools: GRANT })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await node?.kill('SIGTERM');
    await postgres?.stop();
  });

  it.skipIf(skip)('an agent granted store and retrieve stores a value and reads it back', async () => {
    const value = { text: 'hello', n: 42, nested: [1, { deep: true }] };
    expect(await call('keeper', 'store', { key: 'greeting', value })).toMatchObject({ outcome: 'inform', result: { structuredContent: { ok: true } } });
    expect(await call('keeper', 'retrieve', { key: 'greeting' })).toMatchObject({ outcome: 'inform', result: { structuredContent: { value } } });
    const { body } = await api('/api/v1/tools?server=state');
    expect(body.servers[0]).toMatchObject({ name: 'state', kind: 'builtin', status: 'running' });
  });

  it.skipIf(skip)("another agent cannot read it: its keys are its own", async () => {
    expect(await call('snoop', 'retrieve', { key: 'greeting' })).toMatchObject({ outcome: 'inform', result: { structuredContent: { value: null } } });
  });

  it.skipIf(skip)('delete outside the grant is -4 at call_tool, with an audit row, and the value stays', async () => {
    expect(await call('keeper', 'delete', { key: 'greeting' })).toEqual({ outcome: 'refused', code: -4 });
    await expect.poll(() => deniedRows(node), { timeout: 5_000 }).toContain('agent:keeper tool state/delete');
    expect(await call('keeper', 'retrieve', { key: 'greeting' })).toMatchObject({ result: { structuredContent: { value: { text: 'hello' } } } });
  });

  it.skipIf(skip)('a bad argument is a failure TOOL_ERROR, not a crash', async () => {
    const answer = await call('keeper', 'store', { key: 'no-value' });
    expect(answer).toMatchObject({ outcome: 'failure', result: { error: { code: 'TOOL_ERROR' } } });
  });

  it.skipIf(skip)("docs/agents.md's example (examples/agents/last-value) stores what it receives", async () => {
    expect((await deploy('last-value', await exampleModule('last-value'), { tools: { state: ['store'] } })).status).toBe(201);
    expect((await api('/api/v1/messages', { method: 'POST', json: { performative: 'inform', receiver: 'last-value', content: { seen: 'this' } } })).status).toBe(202);
    const logged = async () => JSON.stringify((await api('/api/v1/agents/last-value/logs')).body);
    await expect.poll(logged, { timeout: 10_000 }).toContain('stored: ');
    const lines = (await api('/api/v1/agents/last-value/logs')).body.lines as Array<{ message: string }>;
    // Exactly the line docs/agents.md shows.
    expect(lines.map((l) => l.message)).toContain('stored: {"content":[{"type":"text","text":"{\\"ok\\":true}"}],"structuredContent":{"ok":true}}');
  });

  // Only PostgreSQL is shared between nodes: the test exists for that backend alone (not a skip for SQLite).
  if (name === 'postgres') it.skipIf(skip)('with PostgreSQL, the same agent on node B reads what it wrote on node A', async () => {
    const nodeB = await startNode({ env });
    try {
      const b = client(() => nodeB);
      expect((await b.deploy('keeper', await exampleModule('tool-relay'), { tools: GRANT })).status).toBe(201);
      expect(await b.call('keeper', 'retrieve', { key: 'greeting' })).toMatchObject({ result: { structuredContent: { value: { text: 'hello', n: 42 } } } });
      expect((await b.deploy('snoop', await exampleModule('tool-relay'), { tools: GRANT })).status).toBe(201);
      expect(await b.call('snoop', 'retrieve', { key: 'greeting' })).toMatchObject({ result: { structuredContent: { value: null } } });
    } finally {
      await nodeB.kill('SIGTERM');
    }
  }, 60_000);
});
