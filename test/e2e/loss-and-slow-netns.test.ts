// Faults that are neither a crash nor a partition, with real packets and a real process: three nodes, each in
// its own network namespace (test/helpers/netns.ts), an echo agent pinned to the third, a steady client
// writing to it through the first (every request a remote hop).
// - Loss: 10% of every packet between the nodes dropped at random, each way (iptables' statistic match, so
//   no sch_netem needed), for 12 s: gossip (UDP) and the routing link (TCP) run through it.
// - A slow node: the agent's node frozen with SIGSTOP for 1.5 s, then resumed, as a long GC pause or a
//   starved VM looks to its peers.
// What must hold: every request gets exactly one answer (an inform, or a failure naming why), none is lost or
// answered twice; once the fault ends every node sees the three alive and the agent answers again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, netnsUnavailable } from '../helpers/netns.ts';
import { deployEcho, echoAnswers, memberStatesSeen, sees, startNsCluster, waitFor as waitUntil, type NsNode } from '../helpers/netns-cluster.ts';
import { newTally, sendLoad } from './load.ts';

const unavailable = netnsUnavailable({ iptables: true });
if (unavailable) console.warn(`SKIPPED loss and slow-node tests in network namespaces: ${unavailable}`);

const IDS = ['ls-1', 'ls-2', 'ls-3'];
let lab: NetnsLab | undefined;
const nodes: NsNode[] = [];
const waitFor = (what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> => waitUntil(what, timeoutMs, check, nodes);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The members any node listed dead while `during` ran. */
async function deathsSeen(during: Promise<void>): Promise<Set<string>> {
  const states = await memberStatesSeen(nodes, during);
  return new Set([...states].filter(([, seen]) => seen.has('dead')).map(([id]) => id));
}

describe.skipIf(unavailable !== null)('loss and a slow node in network namespaces', () => {
  beforeAll(async () => {
    lab = new NetnsLab();
    nodes.push(...(await startNsCluster(lab, IDS)));
    await deployEcho(nodes, IDS[2]);
  }, 150_000);

  afterAll(async () => {
    await lab?.cleanup();
  }, 30_000);

  it('10% random loss each way for 12 s: every request answered exactly once; all alive afterwards', { timeout: 90_000 }, async () => {
    const hosts = nodes.map((n) => n.host);
    for (const from of hosts) for (const to of hosts) if (from !== to) lab!.lose(from, to, 10);
    const tally = newTally();
    const load = sendLoad(nodes[0], 'echo', 20, tally, () => 0, 10_000);
    const window = sleep(12_000).then(async () => {
      lab!.heal();
      await load.stop();
    });
    const dead = await deathsSeen(window);
    console.log(`loss 10%: ${JSON.stringify({ ...tally, declared_dead: [...dead] })}`);
    expect(tally.sent).toBeGreaterThan(100);
    expect(tally.unanswered).toBe(0);
    expect(tally.extra).toBe(0);
    expect(tally.answered).toBe(tally.sent);
    await waitFor('all three alive everywhere after the loss', 30_000, async () => (await Promise.all(nodes.map((n) => sees(n, IDS, 'alive')))).every(Boolean));
    await waitFor('echo answering after the loss', 15_000, () => echoAnswers(nodes[0]));
  });

  it("the agent's node frozen 1.5 s (SIGSTOP): every request answered exactly once; it answers again after", { timeout: 90_000 }, async () => {
    const slow = nodes[2].proc.child;
    const tally = newTally();
    const load = sendLoad(nodes[0], 'echo', 20, tally, () => 0, 10_000);
    const window = (async () => {
      await sleep(2000);
      slow.kill('SIGSTOP');
      await sleep(1500);
      slow.kill('SIGCONT');
      await sleep(3000);
      await load.stop();
    })();
    const dead = await deathsSeen(window);
    console.log(`frozen 1.5 s: ${JSON.stringify({ ...tally, declared_dead: [...dead] })}`);
    expect(tally.sent).toBeGreaterThan(100);
    expect(tally.unanswered).toBe(0);
    expect(tally.extra).toBe(0);
    expect(tally.answered).toBe(tally.sent);
    await waitFor('all three alive everywhere after the pause', 30_000, async () => (await Promise.all(nodes.map((n) => sees(n, IDS, 'alive')))).every(Boolean));
    await waitFor('echo answering after the pause', 15_000, () => echoAnswers(nodes[0]));
  });
});
