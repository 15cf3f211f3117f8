import { afterEach, describe, expect, it } from 'vitest';
import type { PacketMessage, PushPull } from '../../../src/cluster/membership/messages.ts';
import type { PeerAddress } from '../../../src/cluster/membership/transport.ts';
import { NetTransport } from '../../../src/cluster/transport/net-transport.ts';
import type { NetTransportOptions } from '../../../src/cluster/transport/net-transport-options.ts';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';

const open: NetTransport[] = [];
const listen = async (options: NetTransportOptions = {}): Promise<NetTransport> => {
  const t = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, ...options });
  open.push(t);
  return t;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const nextPackets = (t: NetTransport): Promise<{ from: PeerAddress; messages: PacketMessage[] }> =>
  new Promise((resolve) => t.onPackets((from, messages) => resolve({ from, messages })));

const state = (name: string, port: number): PushPull => ({
  join: false,
  nodes: [{ name, addr: Uint8Array.of(127, 0, 0, 1), port, meta: Uint8Array.of(1), incarnation: 1, state: 'alive', vsn: [1, 5, 2, 2, 5, 4] }],
  userState: Uint8Array.of(9, 9),
});

describe('NetTransport over loopback', () => {
  it('binds UDP and TCP on one port and advertises it', async () => {
    const a = await listen();
    expect(a.localAddress.host).toBe('127.0.0.1');
    expect(a.localAddress.port).toBeGreaterThan(0);
    expect(a.maxPacketBytes).toBe(1400);
    expect(a.messageSize({ type: 'nackResp', seqNo: 1 })).toBe(9);
  });

  for (const [label, options] of [
    ['plain', {}],
    ['compressed + CRC', { compress: true, crc: true }],
    ['encrypted', { keyring: new Keyring(new Uint8Array(16).fill(3)), compress: true }],
  ] as const) {
    it(`carries packets, push-pull, stream pings and user streams (${label})`, async () => {
      const a = await listen(options);
      const b = await listen(options);
      const got = nextPackets(b);
      const ping: PacketMessage = { type: 'ping', seqNo: 5, node: 'b' };
      const alive: PacketMessage = { type: 'alive', incarnation: 1, node: 'a', addr: Uint8Array.of(127, 0, 0, 1), port: a.localAddress.port, meta: new Uint8Array(300).fill(65), vsn: [1, 5, 2, 2, 5, 4] };
      a.sendPackets(b.localAddress, [ping, alive]);
      const { from, messages } = await got;
      expect(from.port).toBe(a.localAddress.port);
      expect(messages).toEqual([ping, alive]);

      b.onPushPull((_from, remote) => {
        expect(remote).toEqual(state('a', 1));
        return state('b', 2);
      });
      expect(await a.pushPull(b.localAddress, state('a', 1), 2000)).toEqual(state('b', 2));

      const userMessages: Uint8Array[] = [];
      b.onStreamMessage((_from, m) => {
        if (m.type === 'ping') return { type: 'ackResp', seqNo: m.seqNo, payload: new Uint8Array(0) };
        if (m.type === 'user') userMessages.push(m.payload);
        return undefined;
      });
      expect(await a.streamPing(b.localAddress, ping, 2000)).toBe(true);
      await a.sendUserStream(b.localAddress, Uint8Array.of(1, 2, 3), 2000);
      await vi_waitFor(() => userMessages.length === 1);
      expect(userMessages[0]).toEqual(Uint8Array.of(1, 2, 3));
      expect(b.stats.streamErrors).toBe(0);
    });
  }

  it('refuses a peer with another key or none, answering streams with an error', async () => {
    const a = await listen({ keyring: new Keyring(new Uint8Array(16).fill(1)) });
    const b = await listen({ keyring: new Keyring(new Uint8Array(16).fill(2)) });
    const c = await listen();
    b.onPushPull(() => state('b', 2));
    c.onPushPull(() => state('c', 3));
    await expect(a.pushPull(b.localAddress, state('a', 1), 2000)).rejects.toThrow(/remote error|No installed keys/);
    // b refuses the plaintext, and its (encrypted, as memberlist's) error reply is unreadable to c.
    await expect(c.pushPull(b.localAddress, state('c', 1), 2000)).rejects.toThrow(/Remote state is encrypted/);
    expect(b.stats.streamErrors).toBe(2);
    await expect(a.pushPull(c.localAddress, state('a', 1), 2000)).rejects.toThrow(/remote state is not encrypted/);
    a.sendPackets(b.localAddress, [{ type: 'nackResp', seqNo: 1 }]);
    c.sendPackets(b.localAddress, [{ type: 'nackResp', seqNo: 1 }]);
    await vi_waitFor(() => b.stats.decryptFailed + b.stats.unencrypted === 2);
    expect(await a.streamPing(c.localAddress, { type: 'ping', seqNo: 1, node: 'c' }, 500)).toBe(false);
  });

  it('a stream ping to a closed port is simply not acked', async () => {
    const a = await listen();
    const b = await listen();
    const port = b.localAddress.port;
    await b.close();
    expect(await a.streamPing({ host: '127.0.0.1', port }, { type: 'ping', seqNo: 1, node: 'x' }, 500)).toBe(false);
    await expect(a.pushPull({ host: '127.0.0.1', port }, state('a', 1), 500)).rejects.toThrow();
  });
});

async function vi_waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
