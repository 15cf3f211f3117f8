// A joined peer's module.get is ~60 bytes; its answer a module of up to 16 MiB. The serving node used to read
// the module and copy it into the answer, and only then find the queue to the peer full and replace the
// answer with BUSY: a peer that sent requests and did not read made the node copy 16 MiB per request (and
// requests that arrive in one TLS record were all read before any answer left: 40 of them held 480 MiB).
// Now room for the answer is taken before the read, so what could not be queued is refused for a lookup.
// Over real routing links on loopback (TLS, frames, the link's queue), with the module store counted.
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeFrame, encodeValue, encodeValueFrame, FrameReader, FrameType, ROUTING_PROTOCOL_VERSION } from '../../src/cluster/routing/frames.ts';
import type { TlsMaterial } from '../../src/cluster/pki/tls-files.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AgentOperations, type PeerRpc } from '../../src/node/agent-operations.ts';
import type { AgentService } from '../../src/node/agent-service.ts';
import type { AgentInfo } from '../../src/node/services.ts';
import { sha256Hex } from '../../src/state/module-store.ts';
import { nodeTls, startNodes, stopNodes, until, type TestNode } from '../cluster/routing/link-fixture.ts';

const MiB = 1024 * 1024;
/** Above half of routing.queue_max_bytes (16 MiB): the queue to a peer holds one such answer at a time. */
const module = Buffer.alloc(12 * MiB, 7);
const sha256 = sha256Hex(module);
const REQUESTS = 40;

let nodes: Map<string, TestNode> | undefined;
let client: TLSSocket | undefined;
afterEach(async () => {
  client?.destroy();
  client = undefined;
  if (nodes) await stopNodes(nodes);
  nodes = undefined;
});

/** node-a serving modules with AgentOperations; what its store read, and how many requests it handled. */
function serveModules(a: TestNode) {
  const counts = { handled: 0, reads: 0, bytesRead: 0 };
  const rpc: PeerRpc = {
    request: (node, method, body, timeoutMs) => a.links.request(node, method, body, timeoutMs),
    onRequest: (method, handler) =>
      a.links.onRequest(method, (from, body, room) => {
        counts.handled++;
        return handler(from, body, room);
      }),
  };
  new AgentOperations({
    nodeId: 'node-a',
    agents: {} as AgentService,
    local: { has: () => false, info: () => ({}) as AgentInfo, logs: () => [] },
    modules: {
      get: (sha) => {
        if (sha !== sha256) return undefined;
        counts.reads++;
        counts.bytesRead += module.length;
        return module;
      },
      size: (sha: string) => (sha === sha256 ? module.length : undefined),
    },
    nodeOf: () => undefined,
    liveNodes: () => ['node-a'],
    rpc,
    logger: createLogger({ level: 'silent', node: 'node-a' }),
  });
  return counts;
}

/** A member that says hello as `tls.nodeId` and then reads only when told to. */
function rawPeer(port: number, tls: TlsMaterial): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: tls.caPem, key: tls.keyPem, cert: tls.certPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
    const reader = new FrameReader(1 << 16);
    socket.on('error', reject);
    socket.once('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: tls.nodeId, i: 'raw' })));
    const onHello = (chunk: Buffer): void => {
      if (reader.push(chunk).length === 0) return;
      socket.off('data', onHello);
      socket.pause();
      resolve(socket);
    };
    socket.on('data', onHello);
  });
}

/** Reads `count` RESPONSE frames: [id, ok, value] each. */
function responses(socket: TLSSocket, count: number): Promise<unknown[][]> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(20 * MiB);
    const out: unknown[][] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (frame.type === FrameType.response) out.push(decodeValue(frame.payload) as unknown[]);
      }
      if (out.length >= count) resolve(out);
    });
    socket.once('close', () => reject(new Error(`link closed after ${out.length} of ${count} responses`)));
    socket.resume();
  });
}

describe('module.get from a peer that does not read its answers', () => {
  it('refuses what the queue to it cannot hold before reading the module; the answers are clean refusals', async () => {
    const started = await startNodes(['node-a']);
    nodes = started.nodes;
    const a = nodes.get('node-a') as TestNode;
    const counts = serveModules(a);
    client = await rawPeer(a.port, await nodeTls(started.ca, 'node-b'));

    // One write, one TLS record: the node handles all of them before any answer can leave.
    const requests = Array.from({ length: REQUESTS }, (_, i) => encodeValue([i + 1, 'module.get', { sha256 }]));
    client.write(Buffer.concat(requests.map((r) => encodeFrame(FrameType.request, [r], r.length))));
    await until(() => counts.handled === REQUESTS);

    // The queue to node-b holds one 12 MiB answer; a second can be queued only after a flush emptied it into
    // the socket, which node-b does not drain. Before: every request was read (40, 480 MiB).
    expect(counts.reads).toBeGreaterThanOrEqual(1);
    expect(counts.reads).toBeLessThanOrEqual(2);

    const answers = await responses(client, REQUESTS);
    const served = answers.filter(([, ok, value]) => ok === true && (value as { ok?: unknown }).ok instanceof Uint8Array);
    const refused = answers.filter(([, ok, value]) => ok === true && (value as { error?: unknown }).error !== undefined);
    expect(served).toHaveLength(counts.reads);
    expect(served.every(([, , value]) => sha256Hex((value as { ok: Uint8Array }).ok) === sha256)).toBe(true);
    expect(refused).toHaveLength(REQUESTS - counts.reads);
    for (const [, , value] of refused) {
      expect(value).toMatchObject({
        error: { code: 'UNAVAILABLE', message: expect.stringMatching(/cannot be sent now: the queue to node-b holds \d+ bytes/), details: { sha256, bytes: module.length } },
      });
    }

    // Once node-b reads, it is served again.
    const id = REQUESTS + 1;
    const again = encodeValue([id, 'module.get', { sha256 }]);
    const next = responses(client, 1);
    client.write(encodeFrame(FrameType.request, [again], again.length));
    const [[answeredId, ok, value]] = await next;
    expect(answeredId).toBe(id);
    expect(ok).toBe(true);
    expect(sha256Hex((value as { ok: Uint8Array }).ok)).toBe(sha256);
  }, 30_000);

  it('a peer that reads gets every module it asks for, one after another', async () => {
    const started = await startNodes(['node-a', 'node-c']);
    nodes = started.nodes;
    const a = nodes.get('node-a') as TestNode;
    const c = nodes.get('node-c') as TestNode;
    const counts = serveModules(a);
    for (let i = 0; i < 3; i++) {
      const answer = (await c.links.request('node-a', 'module.get', { sha256 }, 10_000)) as { ok: Uint8Array };
      expect(sha256Hex(answer.ok)).toBe(sha256);
    }
    expect(counts.reads).toBe(3);
    const missing = await c.links.request('node-a', 'module.get', { sha256: 'f'.repeat(64) }, 10_000);
    expect(missing).toMatchObject({ error: { code: 'NOT_FOUND' } });
  }, 30_000);
});
