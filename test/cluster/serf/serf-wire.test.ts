// Wire-level interop with a stock `serf agent` over NetTransport alone (a stand-in member, no SWIM core):
// CRC, compression, the TCP-ping fallback and foreign user messages. The real node is in serf-interop.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import type { Vsn } from '../../../src/cluster/membership/messages.ts';
import { NetTransport } from '../../../src/cluster/transport/net-transport.ts';
import type { NetTransportOptions } from '../../../src/cluster/transport/net-transport-options.ts';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';
import { MinimalMember, serfTags } from './minimal-member.ts';
import { freePort, SERF_BINARY, SerfAgent, waitFor } from './serf-agent.ts';

if (!SERF_BINARY) {
  console.warn('\n!!! serf is not installed: SKIPPING the Serf interop tests. Install it with `apt-get install serf`. !!!\n');
}

/** memberlist 1..5 speaking 2, delegate (Serf protocol) 2..5 speaking 4: what serf accepts (see report). */
const VSN: Vsn = [1, 5, 2, 2, 5, 4];
const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(16, 9).toString('base64');
const THIRD_KEY = Buffer.alloc(24, 5).toString('base64');

const agents: SerfAgent[] = [];
const transports: NetTransport[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all(transports.map((t) => t.close()));
});

async function serfAgent(node: string, extra: { encrypt?: string; join?: string } = {}): Promise<SerfAgent> {
  const agent = await SerfAgent.start({ node, bindPort: await freePort(), rpcPort: await freePort(), ...extra });
  agents.push(agent);
  return agent;
}

async function caxton(name: string, options: NetTransportOptions = {}): Promise<MinimalMember> {
  const transport = await NetTransport.listen({ bindHost: '127.0.0.1', bindPort: 0, ...options });
  transports.push(transport);
  return new MinimalMember(transport, name, serfTags({ caxton: '0.1.0', api: '127.0.0.1:8080', route: '127.0.0.1:7947' }), VSN);
}

const gossipAddress = (agent: SerfAgent): { host: string; port: number } => ({ host: '127.0.0.1', port: Number(agent.bindAddr.split(':')[1]) });
const explain = (agent: SerfAgent) => (e: unknown) => {
  throw new Error(`${(e as Error).message}\n--- serf log ---\n${agent.log}`);
};

describe.skipIf(!SERF_BINARY)('Serf interop', () => {
  it('Caxton joins a serf agent, stays alive by UDP and TCP pings, and is declared failed once gone', async () => {
    const serf = await serfAgent('serf1');
    // Compression and CRC on, to prove serf reads both from us.
    const me = await caxton('caxton1', { compress: true, crc: true });
    const remote = await me.join(gossipAddress(serf));
    expect(remote.nodes.map((n) => [n.name, n.state, n.vsn])).toEqual([['serf1', 'alive', [1, 5, 2, 2, 5, 5]]]);
    expect(remote.userState[0]).toBe(2); // Serf's messagePushPull, opaque to us

    const listed = await serf.waitForMember('caxton1', 'alive').catch(explain(serf));
    expect(listed.tags).toEqual({ caxton: '0.1.0', api: '127.0.0.1:8080', route: '127.0.0.1:7947' });
    expect(listed.protocol).toEqual({ min: 2, max: 5, version: 4 });
    await waitFor(() => me.counts.udpPingsAnswered >= 2, 10_000, 'serf to ping us twice');

    // A foreign user message: serf logs it as unknown and carries on.
    me.transport.sendPackets(gossipAddress(serf), [{ type: 'user', payload: Uint8Array.of(0xca, 1, 2) }]);
    await waitFor(() => serf.log.includes('Received message of unknown type: 202'), 5000, 'serf to log our user message');

    // UDP pings unanswered: serf falls back to a TCP ping (we advertise protocol max 5 >= 3) and keeps us.
    me.answerUdpPings = false;
    await waitFor(() => me.counts.streamPingsAnswered >= 2, 10_000, 'serf to ping us over TCP').catch(explain(serf));
    expect((await serf.members()).find((m) => m.name === 'caxton1')?.status).toBe('alive');
    me.answerUdpPings = true;

    expect(serf.log).not.toMatch(/\[ERR\] memberlist/);
    const stats = me.transport.stats;
    expect([stats.malformed, stats.unknownType, stats.badCrc, stats.streamErrors]).toEqual([0, 0, 0, 0]);

    await me.transport.close();
    await serf.waitForMember('caxton1', 'failed', 20_000).catch(explain(serf));
  });

  it('a serf agent joins Caxton: our push-pull reply is accepted', async () => {
    const me = await caxton('caxton2');
    const serf = await serfAgent('serf2', { join: `127.0.0.1:${me.transport.localAddress.port}` });
    await serf.waitForMember('caxton2', 'alive').catch(explain(serf));
    expect(me.counts.pushPullsAnswered).toBeGreaterThanOrEqual(1);
    expect(me.known.get('serf2')?.state).toBe('alive');
    expect(serf.log).not.toMatch(/\[ERR\] memberlist/);
  });

  it('with -encrypt, the right key joins both ways and a wrong key fails', async () => {
    const serf = await serfAgent('serf3', { encrypt: KEY });
    const good = await caxton('caxton3', { keyring: Keyring.fromBase64(KEY, [OTHER_KEY]) });
    await good.join(gossipAddress(serf));
    await serf.waitForMember('caxton3', 'alive').catch(explain(serf));
    await waitFor(() => good.counts.udpPingsAnswered >= 2, 10_000, 'encrypted pings from serf');
    expect(good.transport.stats.decryptFailed).toBe(0);
    // Our encrypted acks were read: serf logs neither a decrypt failure nor a missed ping.
    expect(serf.log).not.toMatch(/Decrypt packet failed|Failed ping: caxton3/);

    // Wrong key (our primary is not serf's): serf cannot read our push-pull and never lists us.
    const wrong = await caxton('caxton4', { keyring: Keyring.fromBase64(OTHER_KEY) });
    await expect(wrong.join(gossipAddress(serf), 3000)).rejects.toThrow();
    // No key at all: refused as plaintext.
    const plain = await caxton('caxton5');
    await expect(plain.join(gossipAddress(serf), 3000)).rejects.toThrow();

    // serf joining us: with the key it works, with a key we lack it fails. (A serf whose key is only a
    // secondary of ours would get our reply under our primary key, which it cannot read: it fails too.)
    const serf4 = await serfAgent('serf4', { encrypt: KEY });
    await serf4.join(`127.0.0.1:${good.transport.localAddress.port}`);
    await serf4.waitForMember('caxton3', 'alive').catch(explain(serf4));
    const serf5 = await serfAgent('serf5', { encrypt: THIRD_KEY });
    await expect(serf5.join(`127.0.0.1:${good.transport.localAddress.port}`)).rejects.toThrow();
    const names = (await serf.members()).map((m) => m.name);
    expect(names).not.toContain('caxton4');
    expect(names).not.toContain('caxton5');
    expect(good.transport.stats.streamErrors).toBeGreaterThanOrEqual(1);
  });
});
