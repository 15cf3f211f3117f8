// The bounds of the gossip TCP port (issue 10, finding 2), one by one, on a NetTransport over loopback.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushPull } from '../../../src/cluster/membership/messages.ts';
import { NetTransport } from '../../../src/cluster/transport/net-transport.ts';
import type { InputRefusal, NetTransportOptions } from '../../../src/cluster/transport/net-transport-options.ts';
import { SourceLogLimit } from '../../../src/cluster/transport/source-log-limit.ts';
import { StreamBudget } from '../../../src/cluster/transport/stream-budget.ts';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';
import { MsgpackWriter } from '../../../src/cluster/wire/msgpack.ts';
import { encodePushPull } from '../../../src/cluster/wire/pushpull.ts';
import { parseStream, StreamTooLarge } from '../../../src/cluster/wire/stream.ts';

const open: NetTransport[] = [];
const sockets: Socket[] = [];
const listen = async (options: NetTransportOptions = {}): Promise<NetTransport> => {
  const t = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, ...options });
  t.onPushPull(() => empty);
  open.push(t);
  return t;
};
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const empty: PushPull = { join: false, nodes: [], userState: new Uint8Array(0) };

function pushPullHeader(userStateLen: number): Uint8Array {
  const w = new MsgpackWriter(64);
  w.byte(6).mapHeader(3).str('Join').bool(false).str('Nodes').uint(0).str('UserStateLen').uint(userStateLen);
  return w.finish();
}

/** Connects, writes `bytes`, and resolves with what the node answered once it closed the connection. */
function send(port: number, bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    sockets.push(s);
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    s.once('close', () => resolve(Buffer.concat(got)));
    s.write(bytes);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stream bounds in the decoder', () => {
  it('refuses a declared user state over the bound from its header alone', () => {
    const header = pushPullHeader(2 * 1024 * 1024);
    expect(() => parseStream(header, undefined, 1024 * 1024)).toThrow(StreamTooLarge);
    expect(parseStream(header, undefined, 4 * 1024 * 1024)).toEqual({ done: false, needBytes: header.length + 2 * 1024 * 1024 });
  });

  it('refuses a declared encrypted length over the bound from its 5-byte header', () => {
    const ring = new Keyring(new Uint8Array(16).fill(1));
    expect(() => parseStream(Uint8Array.of(10, 0, 0x20, 0, 0), ring, 1024 * 1024)).toThrow(StreamTooLarge);
    expect(parseStream(Uint8Array.of(10, 0, 0, 1, 0), ring, 1024 * 1024)).toEqual({ done: false, needBytes: 5 + 256 });
  });
});

describe('NetTransport stream limits', () => {
  it('refuses a declared length over maxStreamBytes before buffering its body, with an errResp', async () => {
    const t = await listen({ maxStreamBytes: 65536 });
    const answer = await send(t.localAddress.port, pushPullHeader(1024 * 1024));
    expect(answer.toString('latin1')).toMatch(/larger than limit/);
    expect(t.stats.oversizedStreams).toBe(1);
  });

  it('caps connections open at once; a closed one frees its place', async () => {
    const t = await listen({ maxIncomingStreams: 2, streamHeaderTimeoutMs: 5000 });
    const idle = [connect({ port: t.localAddress.port, host: '127.0.0.1' }), connect({ port: t.localAddress.port, host: '127.0.0.1' })];
    for (const s of idle) {
      s.on('error', () => {});
      sockets.push(s);
    }
    await sleep(100);
    await send(t.localAddress.port, Uint8Array.of(1)); // closed at once, unread
    expect(t.stats.refusedStreams).toBe(1);
    idle[0].destroy();
    await sleep(100);
    const other = await listen();
    await expect(other.pushPull(t.localAddress, empty, 2000)).resolves.toEqual(empty);
  });

  it('closes a connection that sends no header within streamHeaderTimeoutMs', async () => {
    const t = await listen({ streamHeaderTimeoutMs: 200 });
    const started = Date.now();
    await send(t.localAddress.port, Uint8Array.of(6));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(t.stats.streamErrors).toBe(1);
  });

  it('refuses a stream the shared budget cannot hold, while small streams still pass', async () => {
    const t = await listen({ streamBudgetBytes: 256 * 1024, maxStreamBytes: 1024 * 1024 });
    // Holds ~512 KiB - 64 KiB: over the 256 KiB budget, so it is refused part-way.
    const big = Buffer.concat([Buffer.from(pushPullHeader(900 * 1024)), Buffer.alloc(512 * 1024)]);
    const answer = await send(t.localAddress.port, big);
    expect(answer.toString('latin1')).toMatch(/budget exhausted/);
    expect(t.stats.oversizedStreams).toBe(1);
    const other = await listen();
    await expect(other.pushPull(t.localAddress, empty, 2000)).resolves.toEqual(empty);
    // A whole 200 KiB push-pull fits the budget and is answered.
    const large: PushPull = { join: false, nodes: [], userState: new Uint8Array(200 * 1024).fill(1) };
    expect((await send(t.localAddress.port, encodePushPull(large))).length).toBeGreaterThan(0);
  });
});

describe('refused input is reported at most once per source per interval', () => {
  it('SourceLogLimit lets one line through per source, then counts what it held back', () => {
    let now = 0;
    const limit = new SourceLogLimit({ intervalMs: 60_000, maxSources: 2, now: () => now });
    expect(limit.admit('a')).toBe(0);
    expect(limit.admit('a')).toBeUndefined();
    expect(limit.admit('a')).toBeUndefined();
    expect(limit.admit('b')).toBe(0);
    now = 60_000;
    expect(limit.admit('a')).toBe(2);
    limit.admit('c'); // forgets b, the stalest
    expect(limit.admit('b')).toBe(0);
  });

  it('a garbage datagram is counted by cause and reported with its source', async () => {
    const refusals: InputRefusal[] = [];
    const t = await listen({ keyring: new Keyring(new Uint8Array(16).fill(2)), onRefused: (r) => refusals.push(r) });
    const udp = createSocket('udp4');
    for (let i = 0; i < 3; i++) await new Promise((r) => udp.send(Uint8Array.of(2, 1, 2, 3), t.localAddress.port, '127.0.0.1', r));
    await sleep(200);
    udp.close();
    expect(t.stats.unencrypted).toBe(3);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ transport: 'udp', cause: 'unencrypted', suppressed: 0 });
    expect(refusals[0].source).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('StreamBudget never grants past its limit and takes back what is returned', () => {
    const b = new StreamBudget(100, 10);
    expect(b.tryTake(60)).toBe(true);
    expect(b.tryTake(50)).toBe(false);
    b.giveBack(60);
    expect(b.tryTake(100)).toBe(true);
    expect(b.usedBytes).toBe(100);
  });
});
