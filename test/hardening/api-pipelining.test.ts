// Requests pipelined on one keep-alive connection: Node runs their handlers at once but gives the socket to one
// response at a time, so a response queued behind another never sees the socket close. Each resource such a
// request holds (an event stream, a wait, an MCP slot, a backup copy) must come back when the socket dies; one
// connection may hold only api.max_requests_per_connection of them; waits and event streams have node-wide bounds.
// Against a real node, over raw sockets; every wait below is a poll with a deadline, never a sleep.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Started {
  node: CaxtonNode;
  port: number;
  url: string;
  key: string;
  dataDir: string;
}

async function startNode(settings: Record<string, unknown> = {}): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-pipelining-'));
  const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', ...settings }, env: {} });
  const node = await CaxtonNode.start({ config, listen: true, gossip: false });
  cleanups.push(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const { port } = node.api!.server.address() as AddressInfo;
  return { node, port, url: `http://127.0.0.1:${port}`, key: node.state.adminKey.key, dataDir };
}

/** A connection whose answers are collected; `closed` settles when the socket closes, from either end. */
async function open(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  let text = '';
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => text, closed };
}

const auth = (key: string): string => `Authorization: Bearer ${key}\r\n`;
const get = (path: string, key?: string): string => `GET ${path} HTTP/1.1\r\nHost: caxton\r\n${key ? auth(key) : ''}\r\n`;
function post(path: string, key: string, body: unknown, extra = ''): string {
  const text = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: caxton\r\n${auth(key)}${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}
/** A send that waits the longest allowed for a client that never answers. */
const waitingSend = (key: string): string => post('/api/v1/messages?wait_ms=60000', key, { performative: 'request', receiver: 'client:nobody', content: 'x' });

/** Counts the node's event subscribers (what each /api/v1/events stream holds). */
function countSubscribers(node: CaxtonNode): () => number {
  let live = 0;
  const subscribe = node.events.subscribe.bind(node.events);
  node.events.subscribe = (listener) => {
    live++;
    const unsubscribe = subscribe(listener);
    let once = true;
    return () => {
      if (once) live--;
      once = false;
      unsubscribe();
    };
  };
  return () => live;
}

/** Counts the messages the node routes (sends with and without wait_ms). */
function countRouting(node: CaxtonNode): () => number {
  let routed = 0;
  const router = node.router as unknown as Record<'route' | 'routeResolved', (...args: unknown[]) => unknown>;
  for (const method of ['route', 'routeResolved'] as const) {
    const original = router[method].bind(router);
    router[method] = (...args) => {
      routed++;
      return original(...args);
    };
  }
  return () => routed;
}

const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

describe('resources of pipelined requests come back when the socket dies', () => {
  it('event streams: every subscription of a pipelined GET /api/v1/events ends', async () => {
    const { node, port, key } = await startNode();
    const subscribers = countSubscribers(node);
    const { socket } = await open(port);
    socket.write(get('/api/v1/events', key).repeat(10));
    await expect.poll(subscribers, { timeout: 10_000 }).toBe(10);
    socket.destroy();
    await expect.poll(subscribers, { timeout: 10_000 }).toBe(0);
  });

  it('client waits: every pipelined send with wait_ms stops waiting', async () => {
    const { node, port, key } = await startNode();
    const { socket } = await open(port);
    socket.write(waitingSend(key).repeat(10));
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(10);
    socket.destroy();
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(0);
  });

  it('MCP: every pipelined call gives its in-flight slot back', async () => {
    const { node, port, url, key } = await startNode({ 'api.mcp_max_in_flight': 10 });
    const call = (id: number, name: string, args: unknown): unknown => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    const mcp = (body: unknown): string => post('/mcp', key, body, 'Accept: application/json, text/event-stream\r\n');
    const { socket } = await open(port);
    socket.write(mcp(call(1, 'send_message', { performative: 'request', receiver: 'client:nobody', wait_ms: 60_000 })).repeat(10));
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(10);
    socket.destroy();
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(0);
    // All ten slots are free again: ten calls at once are all served.
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${url}/mcp`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: list,
        }).then((res) => res.status),
      ),
    );
    expect(answers).toEqual(Array(10).fill(200));
  });

  it('backups: the temporary copy of a GET /api/v1/backup queued behind a stream is deleted', async () => {
    const { port, key, dataDir } = await startNode();
    const copies = (): string[] => readdirSync(dataDir).filter((name) => /^\.backup-.*\.tmp$/.test(name));
    const { socket } = await open(port);
    socket.pause(); // reads nothing: the copy cannot be streamed out and deleted on its own
    socket.write(get('/api/v1/events', key) + get('/api/v1/backup', key));
    await expect.poll(() => copies().length, { timeout: 10_000 }).toBe(1);
    socket.destroy();
    await expect.poll(() => copies().length, { timeout: 10_000 }).toBe(0);
  });
});

describe('api.max_requests_per_connection', () => {
  it('refuses a request past the depth before authenticating it, with 503 and Connection: close', async () => {
    const { node, port, key } = await startNode({ 'api.max_requests_per_connection': 4 });
    const { socket, received, closed } = await open(port);
    socket.write(waitingSend(key).repeat(4));
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(4);
    // No credentials: were they looked at first, this would be 401.
    socket.write(get('/api/v1/agents'));
    const refused = async () => (await node.metrics.registry.getSingleMetric('caxton_api_requests_refused_total')?.get())?.values[0]?.value;
    await expect.poll(refused, { timeout: 10_000 }).toBe(1);
    // The refusal is queued behind the four waits: end them (as a node shutdown does) to read it.
    node.inbox.close();
    await closed; // the node closes the connection after the refusal
    const text = received();
    expect(statuses(text)).toEqual([200, 200, 200, 200, 503]);
    const refusal = text.slice(text.indexOf('HTTP/1.1 503'));
    expect(refusal.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(refusal.slice(refusal.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.error.message).toContain('api.max_requests_per_connection');
  });

  it('disconnects a connection that keeps pipelining past the refusal, which ends what it held', async () => {
    const { node, port, key } = await startNode({ 'api.max_requests_per_connection': 4 });
    const routed = countRouting(node);
    const { socket, closed } = await open(port);
    socket.write(waitingSend(key).repeat(4));
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(4);
    // Sends that hold nothing: none is routed, neither the refused ones nor those read after the disconnect.
    socket.write(post('/api/v1/messages', key, { performative: 'inform', receiver: 'client:nobody', content: 'x' }).repeat(1000));
    await closed;
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(0);
    expect(routed()).toBe(4); // the four waiting sends
  });

  it('leaves one request at a time on a keep-alive connection alone', async () => {
    const { port } = await startNode({ 'api.max_requests_per_connection': 1 });
    const { socket, received } = await open(port);
    for (let i = 1; i <= 20; i++) {
      socket.write(get('/health'));
      await expect.poll(() => statuses(received()).length, { timeout: 10_000 }).toBe(i);
    }
    expect(new Set(statuses(received()))).toEqual(new Set([200]));
  });
});

describe('node-wide bounds', () => {
  it('api.max_waits: a send with wait_ms beyond it is refused with 503 and not sent', async () => {
    const { node, port, url, key } = await startNode({ 'api.max_waits': 3 });
    for (let i = 0; i < 3; i++) (await open(port)).socket.write(waitingSend(key));
    await expect.poll(() => node.inbox.waiting, { timeout: 10_000 }).toBe(3);
    const routed = countRouting(node);
    const send = (query: string) =>
      fetch(`${url}/api/v1/messages${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ performative: 'request', receiver: 'client:nobody', content: 'y' }),
      });
    for (const query of ['?wait_ms=1000', '?wait_ms=1000&stream=true']) {
      const refused = await send(query);
      expect(refused.status, query).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
    }
    expect(node.inbox.waiting).toBe(3);
    expect(routed()).toBe(0);
    // A send without wait_ms holds nothing and still goes through.
    expect((await send('')).status).toBe(202);
    expect(routed()).toBe(1);
  });

  it('api.max_event_streams: a stream beyond it is refused with 503; one closing makes room', async () => {
    const { node, port, url, key } = await startNode({ 'api.max_event_streams': 2 });
    const subscribers = countSubscribers(node);
    const first = await open(port);
    first.socket.write(get('/api/v1/events', key));
    (await open(port)).socket.write(get('/api/v1/events', key));
    await expect.poll(subscribers, { timeout: 10_000 }).toBe(2);
    const refused = await fetch(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${key}` } });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
    expect(subscribers()).toBe(2);
    first.socket.destroy();
    await expect.poll(subscribers, { timeout: 10_000 }).toBe(1);
    const third = await open(port);
    third.socket.write(get('/api/v1/events', key));
    await expect.poll(subscribers, { timeout: 10_000 }).toBe(2);
  });
});
