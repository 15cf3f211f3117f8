// An authenticated peer sending anything after hello: random frames (any type, flags, payload, including
// well-formed MessagePack of the wrong shape) over a real mTLS link. The node must neither throw nor stop
// routing; each bad link is simply closed.
import { connect } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeValue, encodeValueFrame, FrameType, ROUTING_PROTOCOL_VERSION } from '../../src/cluster/routing/frames.ts';
import type { TlsMaterial } from '../../src/cluster/pki/tls-files.ts';
import { message, nodeTls, startNodes, stopNodes, until, type TestNode } from '../cluster/routing/link-fixture.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

let nodes: Map<string, TestNode>;
let peer: TlsMaterial;
let delivered = 0;

beforeAll(async () => {
  const started = await startNodes(['node-a', 'node-b'], { settings: { maxFrameBytes: 1 << 16 } });
  nodes = started.nodes;
  peer = await nodeTls(started.ca, 'node-c');
  nodes.get('node-a')!.links.onMessage(() => delivered++);
  nodes.get('node-a')!.links.onRequest('echo', (_f, body) => body);
});
afterAll(async () => {
  await stopNodes(nodes);
});

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.anything({ maxDepth: 3 }).map((v) => {
    try {
      return new Uint8Array(encodeValue(v));
    } catch {
      return new Uint8Array(0);
    }
  }),
  fc.constantFrom(
    new Uint8Array(encodeValue(5)), // an ack beyond what was written
    new Uint8Array(encodeValue([1, 'echo', null])), // a request
    new Uint8Array(encodeValue([9, true, 'x'])), // an answer to nothing
    new Uint8Array(encodeValue('{"performative":"inform","receiver":"b","sender":"a","message_id":"m","conversation_id":"c"}')),
  ),
);
const frame = fc.record({ type: fc.integer({ min: 0, max: 7 }), flags: fc.integer({ min: 0, max: 2 }), payload });

function sendFrames(port: number, frames: Array<{ type: number; flags: number; payload: Uint8Array }>): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: peer.caPem, key: peer.keyPem, cert: peer.certPem, checkServerIdentity: () => undefined });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    socket.on('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: 'node-c', i: 'fuzz' })));
    socket.once('data', () => {
      const parts = frames.map((f) => {
        const head = Buffer.alloc(6);
        head.writeUInt32BE(f.payload.length, 0);
        head[4] = f.type;
        head[5] = f.flags;
        return Buffer.concat([head, f.payload]);
      });
      socket.end(Buffer.concat(parts));
    });
    socket.on('error', () => {});
    socket.on('close', done);
  });
}

describe('routing link under an authenticated hostile peer (fuzz)', () => {
  it('random frames after hello: the link closes, the node keeps routing', { timeout: fuzzTimeoutMs(20) }, async () => {
    const a = nodes.get('node-a')!;
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 6 }), async (frames) => {
        await sendFrames(a.port, frames);
      }),
      fuzzParameters(),
    );
    const before = delivered;
    nodes.get('node-b')!.links.sendMessage('node-a', message('x', 'y'), 'receiver');
    await until(() => delivered === before + 1);
    expect(a.links.stats.malformed).toBeGreaterThan(0);
  });
});
