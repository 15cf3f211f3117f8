// Issue 9's "done when", on three real node processes on loopback started as the README says (a bootstrap
// node, a join token, two nodes joining with it): an agent pinned to n2 is deployed through n1 and answers a
// request sent to n1; a rally of 20,000 rounds between an agent on n1 and one on n3 loses nothing and keeps
// order; df on n3 finds capabilities on all three; a client contract net from n1 with participants on every
// node accepts the best offer and gets the inform back; agents list --by-node shows all three nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../helpers/modules.ts';
import { runCli } from '../helpers/node-process.ts';
import { api, startClusterNode, waitAllAlive, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

let nodes: ClusterNode[] = [];
const [N1, N2, N3] = ['tn-1', 'tn-2', 'tn-3'];
const node = (id: string): ClusterNode => nodes.find((n) => n.id === id)!;
const b64 = (name: string): string => Buffer.from(exampleModule(name)).toString('base64');

async function deployVia(via: string, name: string, module: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await api<any>(node(via), 'POST', '/api/v1/agents', { name, module: b64(module), ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** Every node's registry knows `name` (so routing from any node finds it). */
async function knownEverywhere(name: string): Promise<void> {
  await waitUntil(`${name} known on every node`, 10_000, async () => {
    const views = await Promise.all(nodes.map((n) => api<any>(n, 'GET', `/api/v1/agents/${name}`)));
    return views.every((v) => v.status === 200);
  });
}

beforeAll(async () => {
  const first = await startClusterNode(N1, ['--bootstrap']);
  nodes.push(first);
  const token = (await api<{ token: string }>(first, 'POST', '/api/v1/cluster/token', {})).body.token;
  expect(token).toMatch(/^caxton-join-v1\./);
  nodes.push(...(await Promise.all([N2, N3].map((id) => startClusterNode(id, ['--join', `127.0.0.1:${first.gossipPort}`, '--token', token])))));
  await waitAllAlive(nodes, [N1, N2, N3], 20_000);
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
});

describe('three nodes work as one cluster', { timeout: 120_000 }, () => {
  it('an agent pinned to n2, deployed through n1, answers a request sent to n1', async () => {
    const deployed = await deployVia(N1, 'echo-two', 'echo', { node: N2 });
    expect(deployed).toMatchObject({ name: 'echo-two', node: N2, state: 'running' });
    await knownEverywhere('echo-two');
    const r = await api<any>(node(N1), 'POST', '/api/v1/messages?wait_ms=5000', { performative: 'request', receiver: 'echo-two', content: { hello: 'n2' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.replies).toEqual([expect.objectContaining({ performative: 'inform', sender: 'echo-two', content: { hello: 'n2' } })]);
    // Streamed from n3: the reply comes back across two links as a server-sent event, then the end.
    const streamed = await fetch(`${node(N3).url}/api/v1/messages?wait_ms=5000&stream=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node(N3).apiKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ performative: 'request', receiver: 'echo-two', content: { via: 'stream' } }),
    });
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await streamed.text();
    expect(events).toMatch(/event: reply\ndata: .*"sender":"echo-two"/);
    expect(events).toMatch(/"via":"stream"/);
    expect(events).toMatch(/event: end/);
    // Inspect, stop and start it from n3, which does not run it.
    expect((await api<any>(node(N3), 'GET', '/api/v1/agents/echo-two')).body).toMatchObject({ node: N2 });
    expect((await api<any>(node(N3), 'POST', '/api/v1/agents/echo-two/stop', {})).body).toMatchObject({ node: N2, state: 'stopped' });
    expect((await api<any>(node(N3), 'POST', '/api/v1/agents/echo-two/start', {})).body).toMatchObject({ node: N2, state: 'running' });
    // A second deploy of the name through another node is a conflict naming where it runs.
    const again = await api<any>(node(N3), 'POST', '/api/v1/agents', { name: 'echo-two', module: b64('echo') });
    expect(again.status).toBe(409);
  });

  it('a rally of 20,000 rounds between an agent on n1 and one on n3 loses nothing and keeps order', async () => {
    await deployVia(N2, 'rally-one', 'rally', { node: N1, limits: { fuel: 100_000_000 } });
    await deployVia(N2, 'echo-three', 'echo', { node: N3 });
    await knownEverywhere('rally-one');
    await knownEverywhere('echo-three');
    const r = await api<any>(node(N1), 'POST', '/api/v1/messages?wait_ms=60000', {
      performative: 'request',
      receiver: 'rally-one',
      content: { with: 'echo-three', rounds: 20_000 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.replies[0]).toMatchObject({ performative: 'inform', content: { rounds: 20_000, received: 20_000, out_of_order: 0, failures: 0 } });
  });

  it('df on n3 finds a capability advertised on all three nodes; ams names the node', async () => {
    for (const [i, id] of [N1, N2, N3].entries()) await deployVia(N1, `painter-${i + 1}`, 'contract-net-participant', { node: id, capabilities: ['paint'] });
    for (const i of [1, 2, 3]) await knownEverywhere(`painter-${i}`);
    const df = await api<any>(node(N3), 'POST', '/api/v1/messages?wait_ms=5000', { performative: 'query-ref', receiver: 'df', content: { capability: 'paint' } });
    expect(df.body.replies[0].content.agents ?? df.body.replies[0].content).toEqual(expect.arrayContaining(['painter-1', 'painter-2', 'painter-3']));
    const ams = await api<any>(node(N3), 'POST', '/api/v1/messages?wait_ms=5000', { performative: 'query-ref', receiver: 'ams', content: { agent: 'painter-1' } });
    expect(JSON.stringify(ams.body.replies[0].content)).toContain(N1);
  });

  it('a client contract net from n1 with participants on every node accepts the best offer and gets the inform', async () => {
    const cfp = await api<any>(node(N1), 'POST', '/api/v1/messages?wait_ms=5000', {
      performative: 'cfp',
      receiver: 'capability:paint',
      protocol: 'fipa-contract-net',
      reply_by: new Date(Date.now() + 1500).toISOString(),
      content: { task: 'paint the barn' },
    });
    expect(cfp.status, JSON.stringify(cfp.body)).toBe(200);
    const proposals = cfp.body.replies.filter((r: any) => r.performative === 'propose');
    expect(proposals.map((r: any) => r.sender).sort()).toEqual(['painter-1', 'painter-2', 'painter-3']);
    proposals.sort((a: any, b: any) => a.content.price - b.content.price);
    const [best, ...rest] = proposals;
    const conversationId = cfp.body.conversation_id;
    // The router refuses a decision while a participant may still answer: wait out reply_by.
    await new Promise((r) => setTimeout(r, 1600));
    const reject = await api<any>(node(N1), 'POST', '/api/v1/messages', {
      performative: 'reject-proposal',
      receiver: rest.map((r: any) => r.sender),
      protocol: 'fipa-contract-net',
      conversation_id: conversationId,
    });
    expect(reject.status).toBe(202);
    const accept = await api<any>(node(N1), 'POST', '/api/v1/messages?wait_ms=5000', {
      performative: 'accept-proposal',
      receiver: best.sender,
      protocol: 'fipa-contract-net',
      conversation_id: conversationId,
      content: { price: best.content.price },
    });
    expect(accept.body.replies).toEqual([expect.objectContaining({ performative: 'inform', sender: best.sender, content: { done: true } })]);
    const view = (await api<any>(node(N1), 'GET', `/api/v1/conversations/${conversationId}`)).body;
    expect(view).toMatchObject({ protocol: 'fipa-contract-net', state: 'ended' });
    expect(view.messages.length).toBeGreaterThanOrEqual(7); // cfp, 3 proposals, reject, accept, inform
  });

  it('agents list --by-node shows all three nodes with their agents', async () => {
    const { code, stdout, stderr } = await runCli(['agents', 'list', '--by-node', '--output', 'json'], {
      CAXTON_SERVER: node(N3).url,
      CAXTON_API_KEY: node(N3).apiKey(),
    });
    expect(code, stderr).toBe(0);
    const text = stdout;
    for (const id of [N1, N2, N3]) expect(text).toContain(id);
    for (const agent of ['echo-two', 'rally-one', 'echo-three', 'painter-1', 'painter-2', 'painter-3']) expect(text).toContain(agent);
  });

  it('deletes a remote agent from any node', async () => {
    const deleted = await fetch(`${node(N1).url}/api/v1/agents/echo-three`, { method: 'DELETE', headers: { authorization: `Bearer ${node(N1).apiKey()}` } });
    expect(deleted.status).toBe(204);
    await waitUntil('echo-three gone everywhere', 10_000, async () => {
      const views = await Promise.all(nodes.map((n) => api<any>(n, 'GET', '/api/v1/agents/echo-three')));
      return views.every((v) => v.status === 404);
    });
  });
});
