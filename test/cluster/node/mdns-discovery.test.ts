// `--cluster NAME` end to end: real node processes, each in its own network namespace, on one bridge (in a
// namespace of its own), find each other by mDNS and form one cluster; a stock `serf agent -discover NAME`
// on the same link finds them and is found. Addresses exist only inside the namespaces this test creates,
// so no packet leaves them. Needs root and iproute2: skipped, loudly, without them.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, tempDataDir } from '../../helpers/node-process.ts';
import { IP_BINARY, NetnsLab, netnsUnavailable, type NsChild } from '../../helpers/netns.ts';
import { SERF_BINARY } from '../serf/serf-agent.ts';

const IP = IP_BINARY;
const CURL = ['/usr/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));

function whyUnavailable(): string | null {
  if (!CURL) return 'curl is not installed';
  return netnsUnavailable();
}

const unavailable = whyUnavailable();
if (unavailable) console.warn(`SKIPPED mDNS discovery tests: ${unavailable}`);

const ip = (...args: string[]): string => execFileSync(IP!, args, { stdio: 'pipe', timeout: 10_000 }).toString();
let lab: NetnsLab;
/** The lab's subnet (its first three octets): known once beforeAll has made the lab. */
let SUBNET = '';

/** A namespace with one veth on the bridge, address SUBNET.<host>/24. */
function addHost(name: string, host: number, multicastRoute = false): string {
  return lab.addHost(name, { number: host, multicastRoute }).ns;
}

/**
 * Serf's mDNS query also goes to ff02::fb and fails as a whole while the link-local IPv6 address is still
 * tentative (duplicate address detection, ~1-2 s after link up); it polls again only after 60 s.
 */
async function ipv6Settled(ns: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (ip('-n', ns, '-6', 'addr', 'show', 'dev', 'v0', 'tentative').trim() !== '' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface NsNode {
  id: string;
  ns: string;
  dataDir: string;
  child: NsChild['child'];
  output: () => string;
}

function spawnInNs(ns: string, command: string, args: string[], env: Record<string, string> = {}): { child: NsChild['child']; output: () => string } {
  const host = lab.hosts.find((h) => h.ns === ns)!;
  const { child, output } = lab.spawn(host, command, args, env);
  return { child, output };
}

function startCaxton(id: string, ns: string, host: number, extra: string[] = []): NsNode {
  const dataDir = tempDataDir('caxton-mdns-');
  const args = [cliPath, 'server', 'start', '--node-id', id, '--data-dir', dataDir, '--bind-addr', `${SUBNET}.${host}:7946`, '--api-addr', '127.0.0.1:8080', ...extra];
  const { child, output } = spawnInNs(ns, process.execPath, args, { CAXTON_LOG_LEVEL: 'info' });
  return { id, ns, dataDir, child, output };
}

/** GET through curl inside the namespace: the node's API is reachable only there. */
function members(node: NsNode): { id: string; state: string; address: string }[] {
  const keyFile = join(node.dataDir, 'admin.key');
  if (!existsSync(keyFile)) return [];
  const key = readFileSync(keyFile, 'utf8').trim();
  try {
    const body = execFileSync(IP!, ['netns', 'exec', node.ns, CURL!, '-s', '-m', '3', '-H', `authorization: Bearer ${key}`, 'http://127.0.0.1:8080/api/v1/cluster/members'], {
      stdio: 'pipe',
      timeout: 5000,
    }).toString();
    return (JSON.parse(body) as { members: { id: string; state: string; address: string }[] }).members;
  } catch {
    return [];
  }
}

function serfMembers(ns: string): { name: string; status: string }[] {
  try {
    const out = execFileSync(IP!, ['netns', 'exec', ns, SERF_BINARY!, 'members', '-rpc-addr=127.0.0.1:7373', '-format=json'], { stdio: 'pipe', timeout: 5000 }).toString();
    return (JSON.parse(out) as { members: { name: string; status: string }[] }).members;
  } catch {
    return [];
  }
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const aliveIds = (node: NsNode): string[] =>
  members(node)
    .filter((m) => m.state === 'alive')
    .map((m) => m.id)
    .sort();

describe.skipIf(unavailable !== null)('mDNS discovery (--cluster NAME) across network namespaces', () => {
  const nodes: NsNode[] = [];
  const explain = (): string => nodes.map((n) => `--- ${n.id}\n${n.output().slice(-3000)}`).join('\n');

  beforeAll(() => {
    lab = new NetnsLab({ reachFromTest: false });
    SUBNET = lab.subnet;
  });

  afterAll(async () => {
    await lab?.cleanup(5000);
    for (const node of nodes) rmSync(node.dataDir, { recursive: true, force: true });
  }, 30_000);

  it('nodes given the cluster name find each other and all see three alive (one also has --join and --bootstrap-expect)', { timeout: 90_000 }, async () => {
    const ns = [1, 2, 3].map((h) => addHost(`n${h}`, h));
    // The third also names a member to --join and an expected size: discovery works beside them.
    nodes.push(startCaxton('mdns-1', ns[0], 1, ['--cluster', 'testcl']));
    nodes.push(startCaxton('mdns-2', ns[1], 2, ['--cluster', 'testcl']));
    // Neither names the other: only mDNS can bring these two together. (Started with the third at once, the
    // third's --join could bring them together by gossip before either had heard an mDNS answer.)
    const pair = ['mdns-1', 'mdns-2'];
    await waitUntil('the first two to find each other', 60_000, () => nodes.every((n) => aliveIds(n).join() === pair.join()), explain);
    // The join is logged just after the member appears: wait for the line rather than read it once.
    await waitUntil('a node to log its mDNS join', 10_000, () => nodes.some((n) => n.output().includes('joined peers found by mDNS')), explain);
    nodes.push(startCaxton('mdns-3', ns[2], 3, ['--cluster', 'testcl', '--join', `${SUBNET}.1:7946`, '--bootstrap-expect', '3']));
    const all = ['mdns-1', 'mdns-2', 'mdns-3'];
    await waitUntil('every node to list all three alive', 60_000, () => nodes.every((n) => aliveIds(n).join() === all.join()), explain);
    for (const node of nodes) expect(aliveIds(node)).toEqual(all);
  });

  it('a node of another cluster name on the same link stays apart', { timeout: 60_000 }, async () => {
    const ns = addHost('n5', 5);
    const other = startCaxton('other-5', ns, 5, ['--cluster', 'othercl']);
    nodes.push(other);
    await waitUntil('the other node to serve its API', 30_000, () => aliveIds(other).length === 1, explain);
    // Long enough for its start-up queries and announcements (0, 1, 3 s) to have been answered or ignored.
    await new Promise((r) => setTimeout(r, 4000));
    expect(aliveIds(other)).toEqual(['other-5']);
    expect(aliveIds(nodes[0])).toEqual(['mdns-1', 'mdns-2', 'mdns-3']);
  });

  it.skipIf(!SERF_BINARY)('a stock `serf agent -discover` of the same name finds them and is found', { timeout: 60_000 }, async () => {
    const ns = addHost('s4', 4, true);
    await ipv6Settled(ns);
    const serf = spawnInNs(ns, SERF_BINARY!, ['agent', '-node=serf-4', `-bind=${SUBNET}.4:7946`, '-rpc-addr=127.0.0.1:7373', '-discover=testcl']);
    const explainAll = (): string => `${explain()}\n--- serf\n${serf.output().slice(-3000)}`;
    await waitUntil(
      'serf to list the three Caxton nodes alive',
      30_000,
      () => ['mdns-1', 'mdns-2', 'mdns-3'].every((id) => serfMembers(ns).some((m) => m.name === id && m.status === 'alive')),
      explainAll,
    );
    await waitUntil('the Caxton nodes to list serf-4 alive', 30_000, () => nodes.slice(0, 3).every((n) => aliveIds(n).includes('serf-4')), explainAll);
    // Serf found them through our answers to its query (it logs the mDNS join).
    expect(serf.output()).toMatch(/agent\.mdns: Joined \d+ hosts/);
  });

  it.skipIf(!SERF_BINARY)('a Caxton node started after a lone `serf agent -discover` finds it by itself', { timeout: 60_000 }, async () => {
    // A link of its own: serf's mDNS client takes any service's answers it hears while it looks (the earlier
    // nodes keep answering each other's queries on the old link), and would join those nodes instead.
    await lab.cleanup(5000);
    lab = new NetnsLab({ reachFromTest: false });
    SUBNET = lab.subnet;
    const serfNs = addHost('s6', 6, true);
    await ipv6Settled(serfNs);
    const serf = spawnInNs(serfNs, SERF_BINARY!, ['agent', '-node=serf-6', `-bind=${SUBNET}.6:7946`, '-rpc-addr=127.0.0.1:7373', '-discover=solo']);
    await waitUntil('serf to answer its RPC', 15_000, () => serfMembers(serfNs).length === 1, () => serf.output());
    const node = startCaxton('late-7', addHost('n7', 7), 7, ['--cluster', 'solo']);
    nodes.push(node);
    const explainAll = (): string => `--- late-7\n${node.output().slice(-3000)}\n--- serf\n${serf.output().slice(-3000)}`;
    await waitUntil('late-7 to list serf-6 alive', 30_000, () => aliveIds(node).join() === 'late-7,serf-6', explainAll);
    // Whoever hears the other first joins: Caxton by its query, or serf by Caxton's start-up announcement
    // (then serf is already a member when Caxton's answer comes, and Caxton has nobody left to join).
    const caxtonJoined = new RegExp(`"addresses":\\["${SUBNET.replace(/\./g, '\\.')}\\.6:7946"\\].*joined peers found by mDNS`).test(node.output());
    const serfJoined = /mdns.*join/i.test(serf.output());
    expect(caxtonJoined || serfJoined, explainAll()).toBe(true);
    await waitUntil('serf to list late-7 alive', 15_000, () => serfMembers(serfNs).some((m) => m.name === 'late-7' && m.status === 'alive'), explainAll);
  });
});
