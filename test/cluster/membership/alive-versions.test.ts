// Found by fuzzing the gossip UDP port (test/fuzz/gossip-udp.test.ts): one unauthenticated alive datagram
// claiming protocol versions no one speaks ([217, 255, 217, ...]) was admitted as a member, and from then
// on every join to that node failed memberlist's version rule ("protocol version (109) is incompatible:
// [217, 5]"). An alive whose versions are incompatible with ours is now ignored.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/cluster/membership/clock.ts';
import { Membership } from '../../../src/cluster/membership/memberlist.ts';
import { versionsCompatible } from '../../../src/cluster/membership/member-updates.ts';
import type { Vsn } from '../../../src/cluster/membership/messages.ts';
import { NetTransport } from '../../../src/cluster/transport/net-transport.ts';
import { encodePacket } from '../../../src/cluster/wire/packet.ts';

const open: Membership[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.shutdown()));
});

async function member(name: string): Promise<Membership> {
  const transport = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0 });
  const m = new Membership({ name, transport, clock: systemClock, random: Math.random });
  m.start();
  open.push(m);
  return m;
}

describe('an alive with versions nobody speaks', () => {
  it('is not admitted, and joins to the node still succeed', async () => {
    const target = await member('target');
    const port = target.localNode.port;
    const hostile = encodePacket(
      [{ type: 'alive', incarnation: 1, node: 'weird', addr: Uint8Array.of(127, 0, 0, 1), port: 9, meta: new Uint8Array(0), vsn: [217, 255, 217, 0, 255, 0] }],
      { encryptionVersion: 1, compress: false, crc: false },
    );
    const udp = createSocket('udp4');
    await new Promise((r) => udp.send(hostile, port, '127.0.0.1', r));
    udp.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(target.members().map((m) => m.name)).toEqual(['target']);
    const joiner = await member('joiner');
    await expect(joiner.join([{ host: '127.0.0.1', port }])).resolves.toBe(1);
  });

  it('versionsCompatible is memberlist verifyProtocol for one pair', () => {
    const caxton: Vsn = [1, 5, 2, 2, 5, 4];
    expect(versionsCompatible([1, 5, 2, 2, 5, 5], caxton)).toBe(true); // serf agent 0.8
    expect(versionsCompatible([1, 5, 2, 0, 0, 0], caxton)).toBe(false); // plain memberlist
    expect(versionsCompatible([217, 255, 217, 0, 255, 0], caxton)).toBe(false);
    expect(versionsCompatible([1, 5, 2, 0, 0, 0], [1, 5, 2, 0, 0, 0])).toBe(true);
  });
});
