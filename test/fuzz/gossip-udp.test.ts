// Fuzzing the gossip UDP boundary (issue 10): whatever datagram a peer sends, plain or encrypted with the
// right key, nothing throws out of the decoder, the membership's handlers or the key-rotation payload
// handler, and a real NetTransport + Membership on loopback stays up, counts the garbage in its stats and
// still answers a legitimate peer. The bulk runs on the decoder and handlers directly (fast); a tenth of
// the inputs go through real sockets.
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyRotation } from '../../src/cluster/key-rotation.ts';
import type { KeyringStore } from '../../src/cluster/keyring-store.ts';
import { systemClock } from '../../src/cluster/membership/clock.ts';
import { Membership } from '../../src/cluster/membership/memberlist.ts';
import { NetTransport } from '../../src/cluster/transport/net-transport.ts';
import { Keyring } from '../../src/cluster/wire/keyring.ts';
import { decodePacket, encodePacket } from '../../src/cluster/wire/packet.ts';
import { encryptPayload } from '../../src/cluster/wire/security.ts';
import { newWireStats, type WireStats } from '../../src/cluster/wire/wire-stats.ts';
import { fuzzParameters, fuzzRuns, fuzzTimeoutMs } from './fuzz-runs.ts';
import { breathe, FROM, FUZZ_KEY, fuzzKeyring, handlerMembership, mutated, packetMessage } from './gossip-inputs.ts';

const framings = fc.record({ compress: fc.boolean(), crc: fc.boolean() });
const validPacket = fc.tuple(fc.array(packetMessage, { minLength: 1, maxLength: 4 }), framings).map(([messages, f]) => encodePacket(messages, { encryptionVersion: 1, ...f }));
/** Plaintext datagrams: raw garbage, or a valid packet mutated. */
const plainDatagram = fc.oneof(fc.uint8Array({ maxLength: 1500 }), mutated(validPacket), validPacket);
/** Encrypted with the receiver's key (so decryption passes and the plaintext reaches the decoder), or not. */
const encryptedDatagram = fc.oneof(
  plainDatagram.map((p) => encryptPayload(1, FUZZ_KEY, p)),
  plainDatagram.map((p) => encryptPayload(0, FUZZ_KEY, p)),
  mutated(plainDatagram.map((p) => encryptPayload(1, FUZZ_KEY, p))),
  fc.uint8Array({ maxLength: 1500 }),
);

const dropCount = (s: WireStats): number => s.unknownType + s.malformed + s.truncatedParts + s.badCrc + s.decryptFailed + s.unencrypted + s.labelled;
const socketRuns = (): number => Math.max(100, Math.ceil(fuzzRuns() / 10));

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((o) => o.close()));
});

describe('fuzz: gossip UDP datagrams', () => {
  for (const [label, datagram, keyring] of [
    ['plain', plainDatagram, undefined],
    ['encrypted', encryptedDatagram, fuzzKeyring()],
  ] as const) {
    it(
      `${label}: the decoder and the membership's handlers never throw`,
      async () => {
        const stats = newWireStats();
        let fed = 0;
        let target = handlerMembership();
        await fc.assert(
          fc.asyncProperty(datagram, async (bytes) => {
            await breathe();
            // A fresh membership now and then, so state built by earlier inputs does not grow without end.
            if (++fed % 500 === 0) target = handlerMembership();
            const messages = decodePacket(bytes, keyring, stats);
            target.transport.packetHandler!(FROM, messages);
            for (const m of messages) target.transport.streamHandler!(FROM, m);
          }),
          fuzzParameters(),
        );
        expect(dropCount(stats)).toBeGreaterThan(0);
      },
      fuzzTimeoutMs(),
    );
  }

  it(
    'key-rotation payloads (user messages starting 0xCA) never throw out of the handler',
    async () => {
      const keyring = new Keyring(new Uint8Array(16).fill(1));
      const rotation = new KeyRotation({
        nodeName: 'self',
        keyring,
        store: { save() {} } as unknown as KeyringStore,
        liveMembers: () => [],
        addressOf: (node) => (node === 'peer' ? FROM : undefined),
        sendStream: () => Promise.resolve(),
        answerTimeoutMs: 10,
        log: () => {},
      });
      const json = fc.json({ maxDepth: 3 }).map((j) => new TextEncoder().encode(j));
      const body = fc.oneof(
        json,
        fc.record({ id: fc.string(), from: fc.constantFrom('peer', 'x'), op: fc.constantFrom('list', 'install', 'use', 'remove', 'nope'), key: fc.oneof(fc.string(), fc.constant(Buffer.alloc(16, 3).toString('base64'))) }).map((r) => new TextEncoder().encode(JSON.stringify(r))),
        fc.uint8Array({ maxLength: 60 }),
      );
      await fc.assert(
        fc.asyncProperty(fc.nat(4), body, async (kind, bytes) => {
          await breathe();
          rotation.handle(Uint8Array.from([0xca, kind, ...bytes]));
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs(),
  );

  for (const encrypted of [false, true]) {
    it(
      `a real NetTransport + Membership (${encrypted ? 'encrypted' : 'plain'}) stays up, counts garbage and still answers a peer`,
      async () => {
        const keyring = encrypted ? fuzzKeyring() : undefined;
        const transport = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, keyring });
        const target = new Membership({ name: 'target', transport, clock: systemClock, random: Math.random });
        target.start();
        open.push({ close: () => target.shutdown() });
        const sender = createSocket('udp4');
        open.push({ close: () => new Promise((r) => sender.close(() => r(undefined))) });
        let sent = 0;
        await fc.assert(
          fc.asyncProperty(encrypted ? encryptedDatagram : plainDatagram, async (bytes) => {
            if (bytes.length === 0) return; // the kernel delivers an empty datagram; counted as malformed
            await new Promise((r) => sender.send(bytes, transport.localAddress.port, '127.0.0.1', r));
            sent++;
            // Let the receiver catch up now and then, so the kernel's buffer never overflows.
            if (sent % 20 === 0) {
              const until = Date.now() + 1000;
              while (transport.stats.packetsReceived < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
            }
          }),
          { ...fuzzParameters(), numRuns: socketRuns() },
        );
        await new Promise((r) => setTimeout(r, 300));
        expect(transport.stats.packetsReceived).toBeGreaterThanOrEqual(Math.floor(sent * 0.98));
        expect(dropCount(transport.stats)).toBeGreaterThan(0);
        expect(transport.stats.handlerErrors).toBe(0);
        // A legitimate peer still joins.
        const peerTransport = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, keyring });
        const peer = new Membership({ name: 'peer', transport: peerTransport, clock: systemClock, random: Math.random });
        peer.start();
        open.push({ close: () => peer.shutdown() });
        await expect(peer.join([transport.localAddress])).resolves.toBe(1);
        expect(target.members().map((m) => m.name)).toContain('peer');
        console.log(JSON.stringify({ fuzz: 'gossip-udp-socket', encrypted, sent, received: transport.stats.packetsReceived, stats: transport.stats }));
      },
      fuzzTimeoutMs(2),
    );
  }
});
