// The seed's metrics on a real node's /metrics: messages by performative, routing and invocation latency,
// conversations by protocol, gossip traffic, and gossip input dropped by cause (counted by the transport,
// exported here, and logged with the source address).
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../helpers/modules.ts';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';
import { waitUntil } from '../cluster/node/cluster-processes.ts';

let node: NodeProcess;

beforeAll(async () => {
  node = await startNode({ args: ['--bootstrap'], env: { CAXTON_LOG_LEVEL: 'info' } });
}, 60_000);

afterAll(async () => {
  await node?.kill('SIGKILL');
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.apiKey()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

const scrape = async (): Promise<string> => (await fetch(`${node.url}/metrics`)).text();

/** The value of one series, or undefined when it is not exported. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics of a real node', { timeout: 60_000 }, () => {
  it('counts messages by performative, times routing and invocations, counts conversations by protocol', async () => {
    expect((await call('POST', '/api/v1/agents', { name: 'echo', module: Buffer.from(exampleModule('echo')).toString('base64') })).status).toBe(201);
    for (let i = 0; i < 200; i++) {
      const r = await call('POST', '/api/v1/messages?wait_ms=2000', { performative: 'request', protocol: 'fipa-request', receiver: 'echo', content: { i } });
      expect(r.status).toBe(200);
    }
    // Agents on worker threads (agents.workers > 0) hand their invocation counts over every 20 ms: the last
    // reply can reach the client before the count of the invocation that sent it.
    await waitUntil('the timed message invocations counted', 5_000, async () => (value(await scrape(), 'caxton_agent_invocation_duration_seconds_count{kind="message"}') ?? 0) >= 3);
    const text = await scrape();
    expect(value(text, 'caxton_messages_total{performative="request",outcome="queued"}')).toBe(200);
    expect(value(text, 'caxton_messages_total{performative="inform",outcome="queued"}')).toBe(200);
    expect(value(text, 'caxton_conversation_events_total{protocol="fipa-request",change="opened"}')).toBe(200);
    expect(value(text, 'caxton_conversation_events_total{protocol="fipa-request",change="ended"}')).toBe(200);
    // One in 64 routing decisions and message invocations is timed: 200 replies give 3.
    expect(value(text, 'caxton_routing_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(value(text, 'caxton_agent_invocation_duration_seconds_count{kind="message"}')).toBeGreaterThanOrEqual(3);
    expect(value(text, 'caxton_agent_invocation_duration_seconds_count{kind="init"}')).toBe(1);
    expect(value(text, 'caxton_cluster_members{state="alive"}')).toBe(1);
    expect(value(text, 'caxton_gossip_packets_dropped_total{cause="unknown_type"}')).toBe(0);
    expect(text).toContain('caxton_gossip_sent_bytes_total');
  });

  it('every metric the Grafana dashboard in docs/ queries is exported', async () => {
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const queried = new Set([...dashboard.matchAll(/caxton_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
    expect(queried.size).toBeGreaterThan(15);
    const text = await scrape();
    const missing = [...queried].filter((name) => !text.includes(`# TYPE ${name} `));
    expect(missing).toEqual([]);
  });

  it('exports gossip packets dropped by cause and logs the source address', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    // Message type 250 is no memberlist type.
    await new Promise<void>((resolve, reject) => socket.send(Buffer.from([250, 1, 2, 3]), node.gossipPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    const source = `127.0.0.1:${socket.address().port}`;
    await waitUntil('the drop counted', 5_000, async () => (value(await scrape(), 'caxton_gossip_packets_dropped_total{cause="unknown_type"}') ?? 0) >= 1);
    socket.close();
    expect(node.output()).toContain(source);
  });
});
