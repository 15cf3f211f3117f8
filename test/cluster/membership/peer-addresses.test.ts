// Security review: a ping whose SourceAddr was 30 bytes of text (not an IPv4 or IPv6 address) was answered at
// bytesToHost(SourceAddr), a host name, so each unauthenticated datagram made the node run dns.lookup for a
// name of the sender's choosing; an indirect ping's Target and an alive's Addr likewise. Addresses from
// peers are now IPs only (4 or 16 bytes, as memberlist sends net.IP): anything else is dropped, never
// resolved. Our own configured address may still be a name.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/cluster/membership/clock.ts';
import { Membership } from '../../../src/cluster/membership/memberlist.ts';
import type { PacketMessage, PushPull, Vsn } from '../../../src/cluster/membership/messages.ts';
import type { MessageTransport, PeerAddress } from '../../../src/cluster/membership/transport.ts';
import { decodeMessage, encodeMessage } from '../../../src/cluster/wire/codec.ts';
import { decodePacket } from '../../../src/cluster/wire/packet.ts';
import { newWireStats } from '../../../src/cluster/wire/wire-stats.ts';

const NAME = new TextEncoder().encode('victim-0.dns-amp.example.com');
const IP4 = Uint8Array.of(10, 0, 0, 7);
const IP6 = Uint8Array.of(0xfd, 0, ...new Array<number>(13).fill(0), 1);
const VSN: Vsn = [1, 5, 2, 2, 5, 4];
const peer: PeerAddress = { host: '10.0.0.9', port: 7946 };

/** A membership on a transport that records where it was asked to send, with a clock whose timers never fire. */
function harness(localHost = '127.0.0.1') {
  let packets!: (from: PeerAddress, messages: PacketMessage[]) => void;
  let pushPull!: (from: PeerAddress, remote: PushPull) => PushPull;
  const sentTo: string[] = [];
  const transport: MessageTransport = {
    localAddress: { host: localHost, port: 7946 },
    maxPacketBytes: 1400,
    messageSize: (m) => encodeMessage(m).length,
    sendPackets: (to) => void sentTo.push(to.host),
    onPackets: (h) => (packets = h),
    pushPull: () => Promise.reject(new Error('offline')),
    onPushPull: (h) => (pushPull = h),
    streamPing: () => Promise.resolve(false),
    onStreamMessage: () => {},
    close: () => Promise.resolve(),
  };
  const clock: Clock = { now: () => 0, setTimer: () => 0, clearTimer: () => {} };
  const membership = new Membership({ name: 'victim', transport, clock, random: Math.random, logger: { debug() {}, info() {}, warn() {} } });
  membership.start();
  return { membership, sentTo, receive: (m: PacketMessage) => packets(peer, [m]), pushPull: (r: PushPull) => pushPull(peer, r) };
}

describe('addresses a peer sends', () => {
  it('the codec refuses a ping, indirect ping or alive whose address is no IP; the packet counts it malformed', () => {
    const messages: PacketMessage[] = [
      { type: 'ping', seqNo: 1, node: '', sourceAddr: NAME, sourcePort: 53 },
      { type: 'indirectPing', seqNo: 2, target: NAME, port: 53, node: 'x', nack: true },
      { type: 'indirectPing', seqNo: 3, target: IP4, port: 7946, node: 'x', nack: false, sourceAddr: NAME, sourcePort: 53 },
      { type: 'alive', incarnation: 1, node: 'x', addr: NAME, port: 7946, meta: new Uint8Array(0), vsn: VSN },
      { type: 'alive', incarnation: 1, node: 'x', addr: Uint8Array.of(10, 0, 0), port: 7946, meta: new Uint8Array(0), vsn: VSN },
    ];
    for (const m of messages) {
      expect(() => decodeMessage(encodeMessage(m))).toThrow(/not an IPv4 or IPv6 address/);
      const stats = newWireStats();
      expect(decodePacket(encodeMessage(m), undefined, stats)).toEqual([]);
      expect(stats.malformed).toBe(1);
    }
  });

  it('the codec keeps 4- and 16-byte addresses, and a ping without a source address', () => {
    const messages: PacketMessage[] = [
      { type: 'ping', seqNo: 1, node: 'victim' },
      { type: 'ping', seqNo: 1, node: 'victim', sourceAddr: IP6, sourcePort: 7946, sourceNode: 'a' },
      { type: 'indirectPing', seqNo: 2, target: IP6, port: 7946, node: 'x', nack: true, sourceAddr: IP4, sourcePort: 7946 },
      { type: 'alive', incarnation: 1, node: 'x', addr: IP4, port: 7946, meta: new Uint8Array(0), vsn: VSN },
    ];
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('a ping from a name-address is not answered; from an IP it is, at that IP', () => {
    const h = harness();
    h.receive({ type: 'ping', seqNo: 1, node: '', sourceAddr: NAME, sourcePort: 53 });
    expect(h.sentTo).toEqual([]);
    h.receive({ type: 'ping', seqNo: 2, node: '', sourceAddr: IP4, sourcePort: 7946 });
    expect(h.sentTo).toEqual(['10.0.0.7']);
  });

  it('an indirect ping to or from a name-address pings nobody', () => {
    const h = harness();
    h.receive({ type: 'indirectPing', seqNo: 1, target: NAME, port: 53, node: 'x', nack: true });
    h.receive({ type: 'indirectPing', seqNo: 2, target: IP4, port: 7946, node: 'x', nack: true, sourceAddr: NAME, sourcePort: 53 });
    expect(h.sentTo).toEqual([]);
    h.receive({ type: 'indirectPing', seqNo: 3, target: IP4, port: 7946, node: 'x', nack: true });
    expect(h.sentTo).toEqual(['10.0.0.7']);
  });

  it('an alive or a push-pull naming a member at a name-address does not admit it', () => {
    const h = harness();
    h.receive({ type: 'alive', incarnation: 1, node: 'by-alive', addr: NAME, port: 7946, meta: new Uint8Array(0), vsn: VSN });
    h.pushPull({ join: false, nodes: [{ name: 'by-push-pull', addr: NAME, port: 7946, meta: new Uint8Array(0), incarnation: 1, state: 'alive', vsn: VSN }], userState: new Uint8Array(0) });
    expect(h.membership.members().map((m) => m.name)).toEqual(['victim']);
    h.receive({ type: 'alive', incarnation: 1, node: 'real', addr: IP4, port: 7946, meta: new Uint8Array(0), vsn: VSN });
    expect(h.membership.member('real')?.address).toBe('10.0.0.7');
  });

  it('our own configured address may still be a name', () => {
    const h = harness('caxton-1.internal');
    expect(h.membership.localNode.address).toBe('caxton-1.internal');
  });
});
