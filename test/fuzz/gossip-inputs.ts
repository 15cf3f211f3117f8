// What a hostile peer can put on the gossip port, as fast-check arbitraries, and a membership whose
// handlers can be fed directly (no sockets) for the bulk of the fuzz runs: shared by gossip-udp and
// gossip-tcp fuzz tests.
import fc from 'fast-check';
import { CAXTON_MAGIC } from '../../src/cluster/caxton-payload.ts';
import type { Clock } from '../../src/cluster/membership/clock.ts';
import { Membership } from '../../src/cluster/membership/memberlist.ts';
import type { PacketMessage, PushNodeState, PushPull, Vsn } from '../../src/cluster/membership/messages.ts';
import type { MessageTransport, PeerAddress } from '../../src/cluster/membership/transport.ts';
import { Keyring } from '../../src/cluster/wire/keyring.ts';

export const FUZZ_KEY = new Uint8Array(16).fill(5);
export const fuzzKeyring = (): Keyring => new Keyring(FUZZ_KEY);

const names = fc.oneof(fc.constantFrom('self', 'peer', 'other', '', 'x'.repeat(300)), fc.string({ maxLength: 20 }));
const smallBytes = fc.uint8Array({ maxLength: 40 });
const addr = fc.oneof(fc.constant(Uint8Array.of(127, 0, 0, 1)), fc.uint8Array({ maxLength: 20 }));
const port = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(0, 1, 7946, 65535, 65536));
const incarnation = fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xffffffff));
const vsn: fc.Arbitrary<Vsn> = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const userPayload = fc.oneof(smallBytes, smallBytes.map((b) => Uint8Array.from([CAXTON_MAGIC, ...b])), fc.constant(Uint8Array.of(CAXTON_MAGIC, 1, ...new TextEncoder().encode('{"id":"x","from":"peer","op":"list"}'))));

/** Well-formed messages with hostile field values: they pass decoding and reach the handlers. */
export const packetMessage: fc.Arbitrary<PacketMessage> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seqNo: fc.nat(), node: names }),
  fc.record({ type: fc.constant('indirectPing' as const), seqNo: fc.nat(), target: addr, port, node: names, nack: fc.boolean() }),
  fc.record({ type: fc.constant('ackResp' as const), seqNo: fc.nat(), payload: smallBytes }),
  fc.record({ type: fc.constant('nackResp' as const), seqNo: fc.nat() }),
  fc.record({ type: fc.constant('err' as const), error: fc.string({ maxLength: 40 }) }),
  fc.record({ type: fc.constant('suspect' as const), incarnation, node: names, from: names }),
  fc.record({ type: fc.constant('alive' as const), incarnation, node: names, addr, port, meta: smallBytes, vsn }),
  fc.record({ type: fc.constant('dead' as const), incarnation, node: names, from: names }),
  fc.record({ type: fc.constant('user' as const), payload: userPayload }),
);

const nodeState: fc.Arbitrary<PushNodeState> = fc.record({
  name: names,
  addr,
  port,
  meta: smallBytes,
  incarnation,
  state: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const),
  vsn,
});

export const pushPull: fc.Arbitrary<PushPull> = fc.record({
  join: fc.boolean(),
  nodes: fc.array(nodeState, { maxLength: 6 }),
  userState: fc.oneof(smallBytes, fc.constant(Uint8Array.of(2, 0x80))),
});

/** Bytes derived from a valid encoding: flipped, cut, spliced, or extended. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.option(fc.nat()), fc.uint8Array({ maxLength: 8 }))
    .map(([bytes, flips, cut, tail]) => {
      const out = Uint8Array.from(bytes);
      for (const [at, value] of flips) if (out.length > 0) out[at % out.length] = value;
      const kept = cut === null ? out : out.subarray(0, cut % (out.length + 1));
      return Uint8Array.from([...kept, ...(cut === null ? [] : tail)]);
    });
}

/** A transport that only records the handlers the membership registers: input is fed to them directly. */
export class HandlerTransport implements MessageTransport {
  readonly localAddress: PeerAddress = { host: '127.0.0.1', port: 7946 };
  readonly maxPacketBytes = 1400;
  packetHandler?: (from: PeerAddress, messages: PacketMessage[]) => void;
  pushPullHandler?: (from: PeerAddress, remote: PushPull) => PushPull;
  streamHandler?: (from: PeerAddress, message: PacketMessage) => PacketMessage | undefined;
  messageSize(): number {
    return 64;
  }
  sendPackets(): void {}
  onPackets(h: (from: PeerAddress, messages: PacketMessage[]) => void): void {
    this.packetHandler = h;
  }
  pushPull(): Promise<PushPull> {
    return Promise.reject(new Error('offline'));
  }
  onPushPull(h: (from: PeerAddress, remote: PushPull) => PushPull): void {
    this.pushPullHandler = h;
  }
  streamPing(): Promise<boolean> {
    return Promise.resolve(false);
  }
  onStreamMessage(h: (from: PeerAddress, message: PacketMessage) => PacketMessage | undefined): void {
    this.streamHandler = h;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Timers never fire: the handlers alone run, synchronously, input after input. */
const stillClock: Clock = { now: () => 0, setTimer: () => 0, clearTimer: () => {} };

/** A started membership named 'self' on a HandlerTransport, with a delegate that sees user messages. */
export function handlerMembership(onUser: (payload: Uint8Array) => void = () => {}): { membership: Membership; transport: HandlerTransport } {
  const transport = new HandlerTransport();
  const membership = new Membership({
    name: 'self',
    transport,
    clock: stillClock,
    random: Math.random,
    delegate: { notifyMessage: onUser, mergeRemoteState: () => {}, localState: () => new Uint8Array(0) },
  });
  membership.start();
  return { membership, transport };
}

export const FROM: PeerAddress = { host: '127.0.0.1', port: 40000 };

let sinceYield = 0;
/**
 * Lets the event loop run every few hundred inputs: a synchronous 100,000-input property would starve
 * vitest's worker heartbeat ("Timeout calling onTaskUpdate").
 */
export async function breathe(): Promise<void> {
  if (++sinceYield % 500 === 0) await new Promise((r) => setImmediate(r));
}
