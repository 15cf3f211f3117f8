// Fuzzing the gossip TCP boundary (issue 10): whatever a peer writes on a stream, plain or encrypted with
// the right key, the stream parser throws nothing but StreamError, the push-pull merge and the stream
// message handler never throw, and a real NetTransport + Membership on loopback stays up, counts every bad
// stream and still answers a legitimate push-pull. The bulk runs on the parser and handlers directly; a
// fiftieth of the inputs go through real connections.
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/cluster/membership/clock.ts';
import { Membership } from '../../src/cluster/membership/memberlist.ts';
import type { PushPull } from '../../src/cluster/membership/messages.ts';
import { NetTransport } from '../../src/cluster/transport/net-transport.ts';
import { encodeMessage } from '../../src/cluster/wire/codec.ts';
import { encodePushPull, encodeUserStream } from '../../src/cluster/wire/pushpull.ts';
import { frameStream, parseStream, StreamError } from '../../src/cluster/wire/stream.ts';
import { fuzzParameters, fuzzRuns, fuzzTimeoutMs } from './fuzz-runs.ts';
import { breathe, FROM, fuzzKeyring, handlerMembership, mutated, packetMessage, pushPull } from './gossip-inputs.ts';

const keyring = fuzzKeyring();
const validBody = fc.oneof(
  pushPull.map(encodePushPull),
  packetMessage.filter((m) => m.type === 'ping' || m.type === 'ackResp' || m.type === 'err').map(encodeMessage),
  fc.uint8Array({ maxLength: 64 }).map(encodeUserStream),
);
const plainFrame = fc.tuple(validBody, fc.boolean()).map(([body, compress]) => frameStream(body, { encryptionVersion: 1, compress }));
/** What a plain stream may carry: garbage, a valid frame mutated, or a valid frame. */
const plainStream = fc.oneof(fc.uint8Array({ maxLength: 2000 }), mutated(plainFrame), plainFrame);
/** Encrypted with the receiver's key around garbage plaintext (so the parser after decryption is reached), or not. */
const encryptedStream = fc.oneof(
  fc.tuple(fc.oneof(plainStream, validBody), fc.constantFrom(0 as const, 1 as const)).map(([plain, v]) => frameStream(plain, { encryptionVersion: v, compress: false, keyring })),
  mutated(plainFrame.map((p) => frameStream(p, { encryptionVersion: 1, compress: false, keyring }))),
  fc.uint8Array({ maxLength: 2000 }),
);

const socketRuns = (): number => Math.max(50, Math.ceil(fuzzRuns() / 50));
const MAX_BYTES = 64 * 1024;

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((o) => o.close()));
});

describe('fuzz: gossip TCP streams', () => {
  for (const [label, stream, ring] of [
    ['plain', plainStream, undefined],
    ['encrypted', encryptedStream, keyring],
  ] as const) {
    it(
      `${label}: the stream parser throws only StreamError, on every prefix as on the whole`,
      async () => {
        await fc.assert(
          fc.asyncProperty(stream, fc.nat(), async (bytes, cut) => {
            await breathe();
            for (const input of [bytes, bytes.subarray(0, cut % (bytes.length + 1))]) {
              try {
                const result = parseStream(input, ring, MAX_BYTES);
                if (result.done) expect(result.consumed).toBeLessThanOrEqual(input.length);
                else expect(result.needBytes).toBeGreaterThan(0);
              } catch (e) {
                if (!(e instanceof StreamError)) throw e;
              }
            }
          }),
          fuzzParameters(),
        );
      },
      fuzzTimeoutMs(),
    );
  }

  it(
    'the push-pull merge and the stream message handler never throw',
    async () => {
      let fed = 0;
      let target = handlerMembership();
      await fc.assert(
        fc.asyncProperty(pushPull, fc.array(packetMessage, { maxLength: 3 }), async (remote, messages) => {
          await breathe();
          if (++fed % 500 === 0) target = handlerMembership();
          const reply = target.transport.pushPullHandler!(FROM, remote);
          expect(reply.nodes.length).toBeGreaterThan(0);
          for (const m of messages) target.transport.streamHandler!(FROM, m);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs(),
  );

  for (const encrypted of [false, true]) {
    it(
      `a real NetTransport + Membership (${encrypted ? 'encrypted' : 'plain'}) stays up, counts bad streams and still answers a push-pull`,
      async () => {
        const ring = encrypted ? fuzzKeyring() : undefined;
        const transport = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, keyring: ring, streamHeaderTimeoutMs: 100, tcpTimeoutMs: 300 });
        const target = new Membership({ name: 'target', transport, clock: systemClock, random: Math.random });
        target.start();
        open.push({ close: () => target.shutdown() });
        let sent = 0;
        await fc.assert(
          fc.asyncProperty(encrypted ? encryptedStream : plainStream, fc.nat(9), async (bytes, dice) => {
            const halfClose = dice > 0;
            sent++;
            await new Promise<void>((resolve) => {
              const s = connect({ host: '127.0.0.1', port: transport.localAddress.port });
              s.on('error', () => resolve());
              s.on('data', () => {});
              s.once('close', () => resolve());
              // Half-closing says "that is all"; leaving it open makes the node wait for more (until its deadline).
              s.once('connect', () => (halfClose ? s.end(bytes) : s.write(bytes)));
            });
          }),
          { ...fuzzParameters(), numRuns: socketRuns() },
        );
        expect(transport.stats.streamsAccepted).toBe(sent);
        expect(transport.stats.streamErrors).toBeGreaterThan(0);
        const peerTransport = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, keyring: ring });
        open.push(peerTransport);
        const mine: PushPull = { join: false, nodes: [], userState: new Uint8Array(0) };
        const answer = await peerTransport.pushPull(transport.localAddress, mine, 2000);
        expect(answer.nodes.map((n) => n.name)).toContain('target');
        console.log(JSON.stringify({ fuzz: 'gossip-tcp-socket', encrypted, sent, stats: transport.stats }));
      },
      fuzzTimeoutMs(600),
    );
  }
});
