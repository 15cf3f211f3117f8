// The socket part of discovery on loopback (no packet leaves the host): answers from off-link sources are
// ignored, on-link ones joined once; a legacy unicast query is answered.
import { createSocket, type Socket } from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MdnsDiscovery } from '../../../src/cluster/discovery/mdns-discovery.ts';
import { advertisedRecords, peersInAnswer } from '../../../src/cluster/discovery/service-records.ts';
import type { PeerAddress } from '../../../src/cluster/membership/transport.ts';

const lo = { address: '127.0.0.1', cidr: '127.0.0.1/8', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '' } as NetworkInterfaceInfo;
const eth = { address: '10.1.2.3', cidr: '10.1.2.3/24', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '' } as NetworkInterfaceInfo;

const open: Array<{ stop: () => Promise<void> } | Socket> = [];
afterEach(async () => {
  for (const item of open.splice(0)) {
    if ('stop' in item) await item.stop();
    else item.close();
  }
});

async function setUp(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>) {
  const joined: PeerAddress[][] = [];
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const discovery = await MdnsDiscovery.start({
    cluster: 'sock',
    node: 'me',
    version: 'test',
    gossip: { host: '127.0.0.1', port: 7946 },
    multicastInterface: '127.0.0.1',
    intervalMs: 60_000,
    join: async (addresses) => (joined.push(addresses), addresses.length),
    isMember: () => false,
    logger: { info: () => {}, warn: () => {}, debug: () => {} },
    port,
    interfaces: () => interfaces,
  });
  open.push(discovery);
  const peer = createSocket('udp4');
  open.push(peer);
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  const replies: unknown[] = [];
  peer.on('message', (m) => replies.push(dnsPacket.decode(m)));
  const send = (packet: dnsPacket.Packet) => new Promise<void>((r) => peer.send(dnsPacket.encode(packet), port, '127.0.0.1', () => r()));
  return { joined, replies, send };
}

const answer = (port: number): dnsPacket.Packet => ({ type: 'response', answers: advertisedRecords({ cluster: 'sock', node: 'peer', gossip: { host: '127.0.0.2', port }, info: '' }) });
const query: dnsPacket.Packet = { type: 'query', id: 7, questions: [{ name: '_serf_sock._tcp.local', type: 'PTR' }] };
const settle = () => new Promise((r) => setTimeout(r, 400));

describe('MdnsDiscovery socket', () => {
  it('joins an on-link answer once, and answers a legacy query with its own address', async () => {
    const { joined, replies, send } = await setUp({ lo: [lo] });
    await send(answer(7000));
    await send(answer(7000));
    await send(query);
    await settle();
    expect(joined).toEqual([[{ host: '127.0.0.2', port: 7000 }]]);
    const reply = replies.find((r) => (r as { id: number }).id === 7);
    expect(peersInAnswer(reply, 'sock', 8)).toEqual([{ host: '127.0.0.1', port: 7946 }]);
  });

  it('ignores answers and queries from a source outside the attached networks', async () => {
    const { joined, replies, send } = await setUp({ eth0: [eth] });
    await send(answer(7001));
    await send(query);
    await settle();
    expect(joined).toEqual([]);
    expect(replies).toEqual([]);
  });
});

describe('MdnsDiscovery start', () => {
  it('rejects, naming the port, when the port is held without SO_REUSEADDR', async () => {
    const holder = createSocket({ type: 'udp4', reuseAddr: false });
    open.push(holder);
    await new Promise<void>((r) => holder.bind(0, '0.0.0.0', r));
    const port = holder.address().port;
    await expect(
      MdnsDiscovery.start({
        cluster: 'sock',
        node: 'me',
        version: 'test',
        gossip: { host: '127.0.0.1', port: 7946 },
        multicastInterface: '127.0.0.1',
        intervalMs: 60_000,
        join: async () => 0,
        isMember: () => false,
        logger: { info: () => {}, warn: () => {}, debug: () => {} },
        port,
      }),
    ).rejects.toThrow(new RegExp(`UDP port ${port}`));
  });
});
