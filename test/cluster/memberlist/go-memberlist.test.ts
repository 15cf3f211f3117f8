// Issue 9, membership findings (b) and (c), against the real Go memberlist 0.2.2 (Debian's source): a plain
// memberlist node (delegate versions 0/0/0) and a Caxton node presenting Serf's (2/5/4) refuse each other
// by memberlist's own version rule, and the refused join says why; with gossip.delegate_versions:
// memberlist they form one cluster, both ways. Needs `go` and golang-github-hashicorp-memberlist-dev:
// skipped, loudly, when either is absent (CI installs both).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/node-process.ts';
import { members, startClusterNode, stopAll, waitUntil, type ClusterNode } from '../node/cluster-processes.ts';
import { buildGoMemberlistNode, GO_BINARY, GoMemberlistNode, MEMBERLIST_SOURCE } from './go-memberlist.ts';

const available = GO_BINARY !== undefined && MEMBERLIST_SOURCE;
if (!available) {
  console.warn(
    '\n!!! go or the memberlist source is not installed: SKIPPING the Go memberlist interop tests. ' +
      'Install them with `apt-get install golang-go golang-github-hashicorp-memberlist-dev`. !!!\n',
  );
}

const KEY = Buffer.alloc(16, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(16, 8).toString('base64');
const MEMBERLIST_MODE = { CAXTON_GOSSIP_DELEGATE_VERSIONS: 'memberlist' };

let binary = '';
const goNodes: GoMemberlistNode[] = [];
const nodes: ClusterNode[] = [];
afterAll(async () => {
  await Promise.all(goNodes.map((g) => g.stop()));
  await stopAll(nodes);
});

async function goNode(name: string, extra: { join?: string; key?: string; delegate?: 'memberlist' | 'serf' } = {}): Promise<{ node: GoMemberlistNode; addr: string }> {
  const port = await freePort();
  const node = GoMemberlistNode.start(binary, { name, port, ...extra });
  goNodes.push(node);
  await node.waitFor(`${name} listening`, 10_000, () => node.log.includes('listening'));
  return { node, addr: `127.0.0.1:${port}` };
}

async function caxton(id: string, args: string[], env: Record<string, string> = {}): Promise<ClusterNode> {
  const node = await startClusterNode(id, args, env);
  nodes.push(node);
  return node;
}

const listsAlive = async (node: ClusterNode, id: string): Promise<boolean> => (await members(node)).some((m) => m.id === id && m.state === 'alive');
const joinFailures = (node: ClusterNode): string[] => node.output().split('\n').filter((l) => l.includes('join failed'));

describe.skipIf(!available)('Caxton and a plain Go memberlist node', () => {
  beforeAll(async () => {
    binary = await buildGoMemberlistNode();
  }, 180_000);

  it('refuse each other with Serf delegate versions, and the join failure names the version rule', async () => {
    const { node: go, addr } = await goNode('go-plain');
    const cx = await caxton('cx-serf', ['--join', addr]);
    await waitUntil('a join failure', 10_000, () => joinFailures(cx).length > 0);
    expect(joinFailures(cx)[0]).toMatch(/could not join any of 1 address\(es\): 127\.0\.0\.1:\d+: node '[^']+' delegate protocol version \(\d\) is incompatible/);
    expect(await listsAlive(cx, 'go-plain')).toBe(false);
    // And the other way: the Go node's own Join is refused by memberlist's rule too.
    const { node: go2 } = await goNode('go-joiner', { join: `127.0.0.1:${cx.gossipPort}` });
    await go2.waitFor('the join outcome', 10_000, () => go2.joinOutcome() !== undefined);
    expect(go2.joinOutcome()).toMatch(/^join-error .*delegate protocol version/);
    expect(go.members()).toEqual(['go-plain']);
  }, 60_000);

  it('form one cluster with gossip.delegate_versions: memberlist, whoever joins whom', async () => {
    const { node: go, addr } = await goNode('go-a');
    const cx = await caxton('cx-ml-a', ['--join', addr], MEMBERLIST_MODE);
    await waitUntil('cx-ml-a to list go-a', 10_000, () => listsAlive(cx, 'go-a'));
    await go.waitFor('go-a to list cx-ml-a', 10_000, () => go.members().includes('cx-ml-a'));
    // A Go node joins through the Caxton node and learns the whole cluster.
    const { node: go2 } = await goNode('go-b', { join: `127.0.0.1:${cx.gossipPort}` });
    await go2.waitFor('go-b to list everyone', 10_000, () => ['cx-ml-a', 'go-a', 'go-b'].every((n) => go2.members().includes(n)));
    await waitUntil('cx-ml-a to list go-b', 10_000, () => listsAlive(cx, 'go-b'));
  }, 60_000);

  it('a join refused for a different gossip key says so', async () => {
    const { addr } = await goNode('go-keyed', { key: KEY });
    const cx = await caxton('cx-other-key', ['--join', addr, '--encrypt', OTHER_KEY], MEMBERLIST_MODE);
    await waitUntil('a join failure', 10_000, () => joinFailures(cx).length > 0);
    expect(joinFailures(cx)[0]).toMatch(/could not join any of 1 address\(es\): 127\.0\.0\.1:\d+: .*(decrypt|key)/i);
  }, 60_000);
});
