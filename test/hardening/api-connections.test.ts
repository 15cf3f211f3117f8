// Every connection count has a bound: the API's open connections too (api.max_connections). Against a real node
// process: past the bound a connection is closed on arrival, unread, and counted; the open ones keep working.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';

const nodes: NodeProcess[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(nodes.splice(0).map((n) => n.kill()));
});

const HEALTH = 'GET /health HTTP/1.1\r\nHost: caxton\r\n\r\n';

/** Opens a connection and asks /health on it: 'served' (it stays open, keep-alive) or 'closed' unanswered. */
function healthOver(port: number): Promise<{ outcome: 'served' | 'closed'; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let answer = '';
    socket.on('connect', () => socket.write(HEALTH));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n\r\n') && answer.startsWith('HTTP/1.1 200')) resolve({ outcome: 'served', socket });
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ outcome: 'closed', socket }));
  });
}

describe('api.max_connections', () => {
  it('closes a connection past the bound on arrival and counts it; the open ones keep being served', async () => {
    const node = await startNode({ env: { CAXTON_API_MAX_CONNECTIONS: '3' } });
    nodes.push(node);
    const outcomes: ('served' | 'closed')[] = [];
    const open: Socket[] = [];
    // Up to 3 are served (the start-up check's own pooled connection may still hold one); the next is closed.
    for (let i = 0; i < 4 && !outcomes.includes('closed'); i++) {
      const { outcome, socket } = await healthOver(node.apiPort);
      outcomes.push(outcome);
      if (outcome === 'served') open.push(socket);
    }
    expect(outcomes.at(-1)).toBe('closed');
    expect(open.length).toBeGreaterThanOrEqual(2);
    expect(open.length).toBeLessThanOrEqual(3);
    // An open connection still gets answers.
    const again = await new Promise<string>((resolve) => {
      open[0].removeAllListeners('data');
      open[0].once('data', (chunk) => resolve(chunk.toString()));
      open[0].write(HEALTH);
    });
    expect(again.startsWith('HTTP/1.1 200')).toBe(true);
    // Once they close, new connections are served again, and the refusal was counted.
    for (const socket of open) socket.destroy();
    let metrics = '';
    for (let tries = 0; tries < 50 && !metrics.includes('caxton_api_connections_dropped_total'); tries++) {
      const response = await fetch(`${node.url}/metrics`, { headers: { connection: 'close' } }).catch(() => undefined);
      metrics = response?.ok ? await response.text() : '';
      if (!metrics) await new Promise((r) => setTimeout(r, 50));
    }
    expect(Number(/caxton_api_connections_dropped_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});

describe('api.max_connections_per_source', () => {
  it('closes one address\'s connection past its share on arrival; another address is still served', async () => {
    // Two sources on loopback: 127.0.0.1, and 127.0.0.2 (bound as the local address; all of 127/8 is this host).
    const node = await startNode({ env: { CAXTON_API_MAX_CONNECTIONS_PER_SOURCE: '3' } });
    nodes.push(node);
    const outcomes: ('served' | 'closed')[] = [];
    for (let i = 0; i < 5 && !outcomes.includes('closed'); i++) outcomes.push((await healthOver(node.apiPort)).outcome);
    expect(outcomes.at(-1)).toBe('closed');
    expect(outcomes.filter((o) => o === 'served').length).toBeLessThanOrEqual(3);
    const other = await new Promise<'served' | 'closed'>((resolve) => {
      const socket = connect({ port: node.apiPort, host: '127.0.0.1', localAddress: '127.0.0.2' });
      sockets.push(socket);
      let answer = '';
      socket.on('connect', () => socket.write(HEALTH));
      socket.on('data', (chunk) => {
        answer += chunk.toString();
        if (answer.startsWith('HTTP/1.1 200')) resolve('served');
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve('closed'));
    });
    expect(other).toBe('served');
  });
});
