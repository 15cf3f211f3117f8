// Membership in the simulator (virtual time): detection time, false deaths, join spread, gossip bytes.
// Prints one JSON line per figure. Run: npx tsx bench/membership.ts [--large] (1,000 nodes with --large).
import { fastDetectConfig, membershipConfig, type MembershipConfig } from '../src/cluster/membership/config.ts';
import { SimCluster } from '../src/cluster/sim/sim-cluster.ts';

const large = process.argv.includes('--large');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function emit(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

async function built(size: number, seed: number, config: () => MembershipConfig = fastDetectConfig, lossRate = 0) {
  const c = new SimCluster({ seed, config, lossRate });
  await c.grow(size, size > 10 ? 5_000 : 0);
  const took = await c.runUntil(() => c.converged(size), 180_000, 10);
  if (took === undefined) throw new Error(`${size} nodes did not converge`);
  return c;
}

/** Crashes one node; returns each observer's detection time and the time until all had declared it. */
async function crashOne(c: SimCluster, index: number): Promise<{ observers: number[]; everywhere: number }> {
  const victim = c.nodes[index];
  const alive = c.running().length;
  const start = c.net.now();
  c.net.crash(victim.host);
  const took = await c.runUntil(() => c.seenDeadBy(victim.name) >= alive - 1, 120_000);
  const observers = c.deaths.filter((d) => d.target === victim.name && d.time >= start).map((d) => d.time - start);
  return { observers, everywhere: took ?? Infinity };
}

async function detection(size: number, trials: number): Promise<SimCluster | undefined> {
  const observers: number[] = [];
  const everywhere: number[] = [];
  let last: SimCluster | undefined;
  if (size <= 100) {
    for (let t = 0; t < trials; t++) {
      const c = await built(size, 1000 + t);
      const r = await crashOne(c, t % size);
      observers.push(...r.observers);
      everywhere.push(r.everywhere);
    }
  } else {
    last = await built(size, 77);
    for (let t = 0; t < trials; t++) {
      const r = await crashOne(last, 10 + t * 37);
      observers.push(...r.observers);
      everywhere.push(r.everywhere);
      await last.net.runFor(20_000);
    }
  }
  observers.sort((a, b) => a - b);
  everywhere.sort((a, b) => a - b);
  emit({
    bench: 'membership.detection',
    nodes: size,
    trials,
    perObserverMedianMs: Math.round(quantile(observers, 0.5)),
    perObserverP99Ms: Math.round(quantile(observers, 0.99)),
    everywhereMedianMs: Math.round(quantile(everywhere, 0.5)),
    everywhereP99Ms: Math.round(quantile(everywhere, 0.99)),
    everywhereMaxMs: Math.round(everywhere[everywhere.length - 1]),
  });
  return last;
}

async function falseDeaths(lifeguard: boolean, lossRate: number, slowNodeMs: number, tcpPings: boolean): Promise<void> {
  const size = 10;
  const minutes = 30;
  const off = { localHealthAwareness: false, dynamicSuspicion: false, nack: false, buddySystem: false };
  const config = () => membershipConfig('fastDetect', { disableTcpPings: !tcpPings, ...(lifeguard ? {} : { lifeguard: off }) });
  const c = await built(size, 500 + Math.round(lossRate * 100) + slowNodeMs, config, lossRate);
  const slow = slowNodeMs > 0 ? c.nodes[3] : undefined;
  if (slow) slow.host.slowMs = slowNodeMs;
  const start = c.net.now();
  await c.net.runFor(minutes * 60_000);
  const during = c.deaths.filter((d) => d.time >= start);
  const healthyDeaths = during.filter((d) => d.target !== slow?.name).length;
  const slowDeaths = during.filter((d) => d.target === slow?.name).length;
  const nodeHours = (size * minutes) / 60;
  emit({
    bench: 'membership.falseDeaths',
    lifeguard,
    tcpPings,
    lossRate,
    slowNodeMs,
    nodes: size,
    virtualMinutes: minutes,
    falseDeathsPerNodeHour: +(healthyDeaths / nodeHours).toFixed(3),
    slowNodeDeclaredDead: slowDeaths,
  });
}

async function joinSpread(c: SimCluster): Promise<void> {
  const size = c.running().length;
  const start = c.net.now();
  await c.grow(1);
  const newcomer = c.nodes[c.nodes.length - 1];
  const took = await c.runUntil(() => c.running().every((n) => n.membership.member(newcomer.name)?.state === 'alive'), 120_000, 10);
  emit({ bench: 'membership.joinSpread', nodes: size + 1, msToEveryNode: took === undefined ? null : Math.round(c.net.now() - start) });
}

async function gossipBytes(c: SimCluster): Promise<void> {
  const nodes = c.running();
  const before = nodes.reduce((sum, n) => sum + n.host.bytesSent, 0);
  const seconds = 60;
  await c.net.runFor(seconds * 1000);
  const after = nodes.reduce((sum, n) => sum + n.host.bytesSent, 0);
  emit({ bench: 'membership.bytesPerNodePerSecond', nodes: nodes.length, steadyState: true, bytesPerSecond: Math.round((after - before) / nodes.length / seconds) });
}

const wall = performance.now();
await detection(10, 40);
await detection(100, 10);
for (const size of [10, 100]) {
  const c = await built(size, 900 + size);
  await c.net.runFor(120_000); // let the join storm settle
  await gossipBytes(c);
  await joinSpread(c);
}
for (const tcpPings of [true, false]) {
  for (const lifeguard of [true, false]) {
    for (const loss of [0.01, 0.05, 0.1]) await falseDeaths(lifeguard, loss, 0, tcpPings);
    await falseDeaths(lifeguard, 0, 700, tcpPings);
  }
}
if (large) {
  const c = (await detection(1000, 3)) as SimCluster;
  await c.net.runFor(120_000);
  await gossipBytes(c);
  await joinSpread(c);
}
emit({ bench: 'membership.wallSeconds', seconds: Math.round((performance.now() - wall) / 1000) });
