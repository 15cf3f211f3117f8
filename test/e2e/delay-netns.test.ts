// Delay with real packets: three nodes in their own network namespaces, the third one's link running through
// the delay line (test/helpers/delay-line.ts; this kernel has no sch_netem), an echo agent pinned to it, a
// steady client writing to it through the first node (every request a remote hop).
// - 200 ms each way on the agent's node for 10 s: every request is answered exactly once, each answer takes
//   at least the added round trip (so the delay was real), and nobody is declared dead (a 400 ms round trip
//   is inside memberlist's probe timeout).
// - 700 ms each way for 6 s, past the probe timeout: the slow node may be suspected, but it refutes, is never
//   declared dead, and every request is still answered exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDelayLine, delayLineUnavailable } from '../helpers/delay-line.ts';
import { NetnsLab, netnsUnavailable } from '../helpers/netns.ts';
import { deployEcho, echoAnswers, memberStatesSeen, nsCall, sees, startNsCluster, waitFor as waitUntil, type NsNode } from '../helpers/netns-cluster.ts';
import { newTally, sendLoad } from './load.ts';

const unavailable = netnsUnavailable({ iptables: true }) ?? delayLineUnavailable();
if (unavailable) console.warn(`\n!!! SKIPPED delay tests in network namespaces: ${unavailable} !!!\n`);

const IDS = ['dl-1', 'dl-2', 'dl-3'];
let lab: NetnsLab | undefined;
const nodes: NsNode[] = [];
const waitFor = (what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> => waitUntil(what, timeoutMs, check, nodes);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long one request through the first node to the echo agent takes, in ms. */
async function echoRoundTrip(): Promise<number> {
  const started = performance.now();
  const r = await nsCall(nodes[0], 'POST', '/api/v1/messages?wait_ms=5000', { performative: 'request', receiver: 'echo', content: { probe: true } }, 8000);
  expect(r.body.replies?.[0]?.performative).toBe('inform');
  return performance.now() - started;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe.skipIf(unavailable !== null)('link delay in network namespaces', () => {
  beforeAll(async () => {
    lab = new NetnsLab({ delayLine: await buildDelayLine() });
    nodes.push(...(await startNsCluster(lab, IDS)));
    await deployEcho(nodes, IDS[2]);
  }, 150_000);

  afterAll(async () => {
    await lab?.cleanup();
  }, 30_000);

  it('200 ms each way on the agent’s node for 10 s: every request answered once, each slower by the round trip; nobody dead', { timeout: 90_000 }, async () => {
    const quiet: number[] = [];
    for (let i = 0; i < 5; i++) quiet.push(await echoRoundTrip());
    await lab!.delay(nodes[2].host, 200);
    const tally = newTally();
    const load = sendLoad(nodes[0], 'echo', 20, tally, () => 0, 10_000);
    const delayed: number[] = [];
    const window = (async () => {
      for (let i = 0; i < 5; i++) delayed.push(await echoRoundTrip());
      await sleep(8_000);
      await lab!.delay(nodes[2].host, 0);
      await load.stop();
    })();
    const states = await memberStatesSeen(nodes, window);
    const figures = { quiet_p50_ms: Math.round(median(quiet)), delayed_p50_ms: Math.round(median(delayed)), ...tally, states: Object.fromEntries([...states].map(([id, s]) => [id, [...s]])) };
    console.log(`delay 200 ms each way: ${JSON.stringify(figures)}`);
    // The request crosses node 1 → node 3 and back at least once: 400 ms added can only come from the line.
    expect(Math.min(...delayed)).toBeGreaterThanOrEqual(400);
    expect(tally.sent).toBeGreaterThan(100);
    expect(tally.unanswered).toBe(0);
    expect(tally.extra).toBe(0);
    expect(tally.answered).toBe(tally.sent);
    expect(tally.inform).toBe(tally.sent);
    for (const [id, s] of states) expect(s.has('dead'), `${id} declared dead`).toBe(false);
  });

  it('700 ms each way for 6 s, past the probe timeout: never declared dead, every request answered once', { timeout: 90_000 }, async () => {
    await lab!.delay(nodes[2].host, 700);
    const tally = newTally();
    const load = sendLoad(nodes[0], 'echo', 10, tally, () => 0, 15_000);
    const window = (async () => {
      await sleep(6_000);
      await lab!.delay(nodes[2].host, 0);
      await load.stop();
    })();
    const states = await memberStatesSeen(nodes, window);
    console.log(`delay 700 ms each way: ${JSON.stringify({ ...tally, states: Object.fromEntries([...states].map(([id, s]) => [id, [...s]])) })}`);
    expect(tally.sent).toBeGreaterThan(30);
    expect(tally.unanswered).toBe(0);
    expect(tally.extra).toBe(0);
    expect(tally.answered).toBe(tally.sent);
    for (const [id, s] of states) expect(s.has('dead'), `${id} declared dead`).toBe(false);
    await waitFor('all three alive everywhere after the delay', 30_000, async () => (await Promise.all(nodes.map((n) => sees(n, IDS, 'alive')))).every(Boolean));
    await waitFor('echo answering after the delay', 15_000, () => echoAnswers(nodes[0]));
  });
});
