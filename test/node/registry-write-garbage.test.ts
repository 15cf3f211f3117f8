// registry.write is how a node asks the writer of a tombstone whether it made it (Failover confirmDeletion);
// any joined peer may send it any body. Each malformed body gets a well-formed answer ({ok: null}), a body
// too deep to decode closes only the link it came on, and the node goes on serving with nothing logged as an
// error or counted as uncaught. A real node process; the peer is an in-process member that joined with a token.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterService } from '../../src/cluster/cluster-service.ts';
import { encodeFrame, encodeValueFrame, FrameReader, FrameType, ROUTING_PROTOCOL_VERSION } from '../../src/cluster/routing/frames.ts';
import type { TlsMaterial } from '../../src/cluster/pki/tls-files.ts';
import { loadConfig } from '../../src/config/config.ts';
import { exampleModule } from '../helpers/modules.ts';
import { api, startClusterNode, stopAll, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const started: ClusterNode[] = [];
let peer: ClusterService | undefined;
afterAll(async () => {
  await peer?.stop(false);
  await stopAll(started);
});

/** `{a: {a: … {name: 'held'} …}}`, `depth` levels. */
function nested(depth: number): unknown {
  let value: unknown = { name: 'held' };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** A REQUEST frame [1, 'registry.write', {a: {a: … null}}] built by hand: deeper than any encoder here goes. */
function tooDeepRequest(depth: number): Buffer {
  const head = Buffer.from([0x93, 0x01, 0xae, ...Buffer.from('registry.write')]);
  const body = Buffer.alloc(depth * 3 + 1);
  for (let i = 0; i < depth; i++) body.set([0x81, 0xa1, 0x61], i * 3);
  body[depth * 3] = 0xc0;
  const payload = Buffer.concat([head, body]);
  return encodeFrame(FrameType.request, [payload], payload.length);
}

/** Says hello as the peer on a connection of its own, sends `frame`, and resolves when the node closes it. */
function sendAndWaitClose(port: number, tls: TlsMaterial, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: tls.caPem, key: tls.keyPem, cert: tls.certPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
    const reader = new FrameReader(1 << 16);
    const timer = setTimeout(() => reject(new Error('the node kept the link open')), 20_000);
    socket.on('error', () => {});
    socket.once('secureConnect', () => socket.write(encodeValueFrame(FrameType.hello, { v: ROUTING_PROTOCOL_VERSION, node: tls.nodeId, i: 'raw' })));
    socket.on('data', (chunk: Buffer) => {
      if (reader.push(chunk).length > 0) socket.write(frame);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('registry.write from a peer, with garbage for a body', () => {
  it('answers each with {ok: null}, drops only the link of an undecodable one, and keeps serving', async () => {
    // The node's id sorts after the peer's: a connection of the peer's is never refused as a crossing dial.
    const node = await startClusterNode('rw-node', ['--bootstrap']);
    started.push(node);
    const deployed = await api<{ name: string }>(node, 'POST', '/api/v1/agents', { name: 'held', module: Buffer.from(exampleModule('echo')).toString('base64') });
    expect(deployed.status).toBe(201);
    const token = (await api<{ token: string }>(node, 'POST', '/api/v1/cluster/token', {})).body.token;
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-registry-write-peer-'));
    const config = loadConfig({ env: {}, flags: { dataDir, bindAddr: '127.0.0.1:0', apiAddr: '127.0.0.1:0', join: [`127.0.0.1:${node.gossipPort}`], token } });
    const quiet = (): void => {};
    peer = await ClusterService.start({ config, nodeId: 'peer-rw', version: '9.9.9', logger: { info: quiet, warn: quiet, debug: quiet } });
    const links = peer.routing;
    if (!links || !peer.tls) throw new Error('the peer has no routing links');
    const ask = (body: unknown): Promise<unknown> => links.request('rw-node', 'registry.write', body, 10_000);
    const heldWrite = { ok: { lamport: expect.any(Number), writer: 'rw-node', deleted: false } };
    // The control: a well-formed body naming a live agent (retried while the node has not yet seen the peer join).
    await waitUntil('the node answers the peer', 20_000, async () => {
      try {
        return JSON.stringify(await ask({ name: 'held' })).includes('"writer":"rw-node"');
      } catch {
        return false;
      }
    });

    const garbage: Array<[string, unknown]> = [
      ['null', null],
      ['a number', 42],
      ['an array', ['held', { name: 'held' }]],
      ['a name that is a number', { name: 5 }],
      ['an empty name', { name: '' }],
      ['a name of 1 MB', { name: 'n'.repeat(1_000_000) }],
      ['extra fields', { name: 'nobody', lamport: 1e308, writer: 'rw-node', deleted: true, extra: { list: [1, 2, 3] } }],
      ['a name that is an object', { name: { toString: 'held' } }],
      ['an own __proto__ key', JSON.parse('{"__proto__": {"name": "held"}}')],
      ['an object nested 1,000 deep', nested(1000)],
    ];
    for (const [what, body] of garbage) {
      expect(await ask(body), what).toEqual({ ok: null });
    }

    // Nested beyond what the decoder's stack allows: the frame is malformed, the link it came on is closed.
    await sendAndWaitClose(node.gossipPort, peer.tls.material, tooDeepRequest(100_000));

    // Still serving: the peer (which redials) and the API.
    await waitUntil('the node answers the peer again', 20_000, async () => {
      try {
        return JSON.stringify(await ask({ name: 'held' })).includes('"writer":"rw-node"');
      } catch {
        return false;
      }
    });
    expect(await ask({ name: 'held' })).toEqual(heldWrite);
    expect((await api(node, 'GET', '/api/v1/agents/held')).status).toBe(200);
    const metrics = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${node.apiKey()}` } }).then((r) => r.text());
    expect(metrics).toMatch(/caxton_uncaught_errors_total\{kind="exception"\} 0/);
    expect(metrics).toMatch(/caxton_uncaught_errors_total\{kind="rejection"\} 0/);
    const errors = node.output().split('\n').filter((line) => /"level":"(error|fatal)"|uncaught/.test(line));
    expect(errors).toEqual([]);
  }, 120_000);
});
