// Hostile clients for the soak test: each runs a bounded loop against one real node on loopback until told
// to stop, and counts what it did. None of them expects success; they only make the node work.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

export interface HostileTarget {
  apiHost: string;
  apiPort: number;
  gossipPort: number;
  /** A key of role sender, for the attacks that need to get past authentication (oversize, deep JSON). */
  senderKey: string;
}

export interface HostileCounts {
  requests: number;
  datagrams: number;
  connections: number;
  errors: number;
}

export type HostileKind = 'wrong-key' | 'garbage-gossip' | 'slowloris' | 'oversize' | 'deep-json' | 'agent-driver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Built once: the attack is on the node, so the load generator must not spend its CPU (which it shares with
// the node on this machine) building megabytes per request.
const OVERSIZE_BODY = Buffer.from(`{"performative":"request","receiver":"echo","content":"${'x'.repeat(3 * 1024 * 1024)}"}`);
const DEEP_BODY = Buffer.from(`{"performative":"request","receiver":"echo","content":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);

/** Runs `kind` until `stop.signal` aborts; each loop is paced so 50 clients stay within one core's worth. */
export async function runHostile(kind: HostileKind, target: HostileTarget, stop: AbortSignal, counts: HostileCounts): Promise<void> {
  const url = `http://${target.apiHost}:${target.apiPort}`;
  const post = async (body: string | Buffer, key: string): Promise<void> => {
    try {
      const res = await fetch(`${url}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : new Uint8Array(body),
        signal: stop,
      });
      await res.arrayBuffer();
      counts.requests++;
    } catch {
      counts.errors++;
    }
  };
  while (!stop.aborted) {
    switch (kind) {
      case 'wrong-key':
        await post('{"performative":"request","receiver":"echo","content":1}', `cxk_${Math.random().toString(36).slice(2)}`);
        // At most ~100 a second each: 20 of these are ~2,000 refusals a second, from a generator that shares
        // the node's two cores (unpaced, the generator itself became the load).
        await sleep(10);
        break;
      case 'oversize':
        // Paced: 5 of these at 10 per second each are 150 MB/s of body on loopback, and the generator shares
        // the machine's two cores with the node; the node refuses each from its declared length.
        await post(OVERSIZE_BODY, target.senderKey);
        await sleep(100);
        break;
      case 'deep-json':
        await post(DEEP_BODY, target.senderKey);
        await sleep(100);
        break;
      case 'garbage-gossip':
        await garbageGossip(target, counts);
        await sleep(10);
        break;
      case 'slowloris':
        await slowloris(target, stop, counts);
        break;
      case 'agent-driver':
        await driveHostileAgents(post, target.senderKey);
        await sleep(50);
        break;
    }
  }
}

/** Keeps the hostile agents busy: the ones that act per message get one, the floods get a kick. */
async function driveHostileAgents(post: (body: string | Buffer, key: string) => Promise<void>, key: string): Promise<void> {
  for (const receiver of process.env.SOAK_DRIVE?.split(',') ?? ['spinner', 'memory-hog', 'trap-storm', 'self-flood', 'neighbour-flood']) {
    await post(JSON.stringify({ performative: 'inform', receiver, content: 'go' }), key);
  }
}

async function garbageGossip(target: HostileTarget, counts: HostileCounts): Promise<void> {
  const udp = createSocket('udp4');
  for (let i = 0; i < 20; i++) {
    const bytes = Buffer.alloc(1 + Math.floor(Math.random() * 1400));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(Math.random() * 256);
    udp.send(bytes, target.gossipPort, '127.0.0.1');
    counts.datagrams++;
  }
  await new Promise<void>((r) => udp.close(() => r()));
  // And a TCP stream that declares a push-pull and then trickles garbage.
  await new Promise<void>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: target.gossipPort });
    counts.connections++;
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      socket.write(Buffer.from([6, 0x84, 0xff, 0xff, 0xff, 0x7f]));
      setTimeout(() => socket.destroy(), 200);
    });
  });
}

/** Opens a connection and sends a request's headers one byte at a time, as slowly as a server tolerates. */
async function slowloris(target: HostileTarget, stop: AbortSignal, counts: HostileCounts): Promise<void> {
  const head = `POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cxk_slow\r\nContent-Length: 100000\r\n`;
  await new Promise<void>((resolve) => {
    let socket: Socket | undefined = connect({ host: target.apiHost, port: target.apiPort });
    counts.connections++;
    let i = 0;
    const done = () => {
      clearInterval(timer);
      socket?.destroy();
      socket = undefined;
      resolve();
    };
    const timer = setInterval(() => {
      if (stop.aborted || !socket || socket.destroyed) return done();
      socket.write(head[i % head.length]);
      i++;
    }, 250);
    socket.on('error', done);
    socket.on('close', done);
  });
}
