// Issue 10: warnings a peer can provoke at will (an err packet, a refused push-pull, an alive with an
// unusable address, a delegate that throws on its input) are logged at most once per kind (and source)
// per minute, with the count held back; a throwing delegate is counted, never thrown out.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/cluster/membership/clock.ts';
import { Membership } from '../../../src/cluster/membership/memberlist.ts';
import type { PacketMessage, PushPull } from '../../../src/cluster/membership/messages.ts';
import type { MessageTransport, PeerAddress } from '../../../src/cluster/membership/transport.ts';

function harness(now: { t: number }) {
  let packets!: (from: PeerAddress, messages: PacketMessage[]) => void;
  let pushPull!: (from: PeerAddress, remote: PushPull) => PushPull;
  const transport: MessageTransport = {
    localAddress: { host: '127.0.0.1', port: 7946 },
    maxPacketBytes: 1400,
    messageSize: () => 64,
    sendPackets: () => {},
    onPackets: (h) => (packets = h),
    pushPull: () => Promise.reject(new Error('offline')),
    onPushPull: (h) => (pushPull = h),
    streamPing: () => Promise.resolve(false),
    onStreamMessage: () => {},
    close: () => Promise.resolve(),
  };
  const clock: Clock = { now: () => now.t, setTimer: () => 0, clearTimer: () => {} };
  const warnings: string[] = [];
  const membership = new Membership({
    name: 'self',
    transport,
    clock,
    random: Math.random,
    logger: { debug() {}, info() {}, warn: (m) => warnings.push(m) },
    delegate: {
      notifyMessage: () => {
        throw new Error('delegate bug');
      },
    },
  });
  membership.start();
  return { membership, warnings, packets: (m: PacketMessage) => packets({ host: '10.0.0.9', port: 1 }, [m]), pushPull: (r: PushPull) => pushPull({ host: '10.0.0.9', port: 1 }, r) };
}

describe('peer-provoked warnings', () => {
  it('are logged once per kind per minute, then again with the count held back', () => {
    const now = { t: 0 };
    const h = harness(now);
    for (let i = 0; i < 100; i++) {
      h.packets({ type: 'err', error: 'boom' });
      h.packets({ type: 'user', payload: Uint8Array.of(1) });
      h.packets({ type: 'alive', incarnation: 1, node: `n${i}`, addr: Uint8Array.of(127, 0, 0, 1), port: 0, meta: new Uint8Array(0), vsn: [1, 5, 2, 2, 5, 4] });
      h.pushPull({ join: true, nodes: [{ name: 'old', addr: Uint8Array.of(127, 0, 0, 1), port: 1, meta: new Uint8Array(0), incarnation: 1, state: 'alive', vsn: [1, 1, 1, 2, 5, 4] }], userState: new Uint8Array(0) });
    }
    expect(h.warnings).toHaveLength(4);
    expect(h.membership.handlerErrors).toBe(100);
    now.t = 60_000;
    h.packets({ type: 'err', error: 'boom' });
    expect(h.warnings).toHaveLength(5);
    expect(h.warnings[4]).toMatch(/99 more like it/);
  });
});
