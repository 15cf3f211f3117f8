// Issue 13's tracing "done when": one request from an API client that crosses two agents (on one node, then
// on two nodes) arrives at a real OTLP/HTTP receiver started here as one trace, continuing the client's
// `traceparent`, with the parent/child chain API → route → invoke → route → (hop →) invoke → ...
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../helpers/modules.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { api, startClusterNode, waitAllAlive, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const receiver = new OtlpReceiver();
let nodes: ClusterNode[] = [];
const [N1, N2] = ['tr-1', 'tr-2'];
const b64 = (name: string): string => Buffer.from(exampleModule(name)).toString('base64');

beforeAll(async () => {
  await receiver.start();
  const env = {
    // Invoke and tool-call spans come from the in-thread runtime only, and a send that stays inside a worker
    // gets no route span: agents on workers pass the traceparent on, no more (a gap of the pool, issue 14).
    CAXTON_AGENTS_WORKERS: '0',
    CAXTON_TELEMETRY_OTLP_ENDPOINT: receiver.url,
    CAXTON_TELEMETRY_SAMPLING_RATIO: '1',
    CAXTON_TELEMETRY_EXPORT_INTERVAL_MS: '100',
  };
  const first = await startClusterNode(N1, ['--bootstrap'], env);
  nodes.push(first);
  const token = (await api<{ token: string }>(first, 'POST', '/api/v1/cluster/token', {})).body.token;
  nodes.push(await startClusterNode(N2, ['--join', `127.0.0.1:${first.gossipPort}`, '--token', token], env));
  await waitAllAlive(nodes, [N1, N2], 20_000);
  for (const [name, module, node] of [
    ['front', 'scripted', N1],
    ['back', 'echo', N1],
    ['far', 'echo', N2],
  ]) {
    const r = await api<any>(first, 'POST', '/api/v1/agents', { name, module: b64(module), node });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  await waitUntil('every agent known on both nodes', 10_000, async () => {
    const views = await Promise.all(nodes.flatMap((n) => ['front', 'back', 'far'].map((a) => api<any>(n, 'GET', `/api/v1/agents/${a}`))));
    return views.every((v) => v.status === 200);
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  await receiver.stop();
});

/** Sends a request to `front` asking it to request `target`, with a client traceparent; returns the client's ids. */
async function tracedRequest(target: string): Promise<{ traceId: string; clientSpan: string }> {
  const traceId = randomBytes(16).toString('hex');
  const clientSpan = randomBytes(8).toString('hex');
  const res = await fetch(`${nodes[0].url}/api/v1/messages?wait_ms=5000`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodes[0].apiKey()}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpan}-01` },
    body: JSON.stringify({ performative: 'request', receiver: 'front', content: { send: { performative: 'request', receiver: target, content: { n: 1 } } } }),
  });
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.replies).toEqual([expect.objectContaining({ performative: 'inform', sender: 'front', content: { sent: [0] } })]);
  return { traceId, clientSpan };
}

/** The one span of the trace whose parent is `parent` and that `matches`. */
function childOf(spans: ReceivedSpan[], parent: ReceivedSpan | string, matches: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const parentId = typeof parent === 'string' ? parent : parent.spanId;
  const found = spans.filter((s) => s.parentSpanId === parentId && matches(s));
  expect(found, `${what}: children of ${parentId} are ${JSON.stringify(spans.filter((s) => s.parentSpanId === parentId).map((s) => s.name))}`).toHaveLength(1);
  return found[0];
}

const route = (performative: string, sender: string) => (s: ReceivedSpan) =>
  s.name === 'caxton.route' && s.attributes['caxton.performative'] === performative && s.attributes['caxton.sender'] === sender;

describe('tracing across agents and nodes', { timeout: 60_000 }, () => {
  it('a request through two agents of one node is one trace continuing the client traceparent', async () => {
    const { traceId, clientSpan } = await tracedRequest('back');
    // API, route, invoke front, route ×2 (to back, to the client), invoke back, route, invoke front.
    await waitUntil('the 8 spans of the trace exported', 10_000, () => receiver.trace(traceId).length >= 8);
    const spans = receiver.trace(traceId);
    expect(spans).toHaveLength(8);
    expect(receiver.refused).toEqual([]);
    const request = childOf(spans, clientSpan, (s) => s.name === 'POST /api/v1/messages', 'the API span');
    expect(request).toMatchObject({ kind: 2, node: N1, service: 'caxton' });
    const r1 = childOf(spans, request, route('request', 'client:admin'), 'routing the client request');
    const i1 = childOf(spans, r1, (s) => s.name === 'caxton.invoke front', 'front handles it');
    expect(i1.attributes).toMatchObject({ 'caxton.agent': 'front', 'caxton.outcome': 'ok' });
    const r2 = childOf(spans, i1, route('request', 'front'), 'front requests back');
    childOf(spans, i1, route('inform', 'front'), 'front answers the client');
    const i2 = childOf(spans, r2, (s) => s.name === 'caxton.invoke back', 'back handles it');
    const r3 = childOf(spans, i2, route('inform', 'back'), 'back answers front');
    childOf(spans, r3, (s) => s.name === 'caxton.invoke front', 'front handles the answer');
    expect(new Set(spans.map((s) => s.node))).toEqual(new Set([N1]));
  });

  it('a refused caller gets no span, even with a sampled traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${nodes[0].url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-key', 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ performative: 'request', receiver: 'front' }),
    });
    expect(res.status).toBe(401);
    // A traced request sent after it is exported (export every 100 ms, in order): the refused one would be too.
    const { traceId: later } = await tracedRequest('back');
    await waitUntil('the later trace exported', 10_000, () => receiver.trace(later).length >= 8);
    expect(receiver.trace(traceId)).toEqual([]);
  });

  it('across two nodes the hop spans link the chain, and both nodes export into the same trace', async () => {
    const { traceId, clientSpan } = await tracedRequest('far');
    // As on one node, plus a hop each way; each node exports its own spans.
    await waitUntil('the 10 spans of the trace exported by both nodes', 10_000, () => receiver.trace(traceId).length >= 10);
    const spans = receiver.trace(traceId);
    expect(spans).toHaveLength(10);
    const request = childOf(spans, clientSpan, (s) => s.name === 'POST /api/v1/messages', 'the API span');
    const r1 = childOf(spans, request, route('request', 'client:admin'), 'routing the client request');
    const i1 = childOf(spans, r1, (s) => s.name === 'caxton.invoke front', 'front handles it');
    const r2 = childOf(spans, i1, route('request', 'front'), 'front requests far');
    const hop1 = childOf(spans, r2, (s) => s.name === 'caxton.hop', 'the hop to tr-2');
    expect(hop1).toMatchObject({ node: N1, kind: 4, attributes: expect.objectContaining({ 'caxton.peer': N2, 'caxton.outcome': 'queued' }) });
    const i2 = childOf(spans, hop1, (s) => s.name === 'caxton.invoke far', 'far handles it on tr-2');
    expect(i2.node).toBe(N2);
    const r3 = childOf(spans, i2, route('inform', 'far'), 'far answers front');
    expect(r3.node).toBe(N2);
    const hop2 = childOf(spans, r3, (s) => s.name === 'caxton.hop', 'the hop back to tr-1');
    expect(hop2).toMatchObject({ node: N2, attributes: expect.objectContaining({ 'caxton.peer': N1 }) });
    const i3 = childOf(spans, hop2, (s) => s.name === 'caxton.invoke front', 'front handles the answer on tr-1');
    expect(i3.node).toBe(N1);
  });
});
