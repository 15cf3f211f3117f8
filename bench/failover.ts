// Issue 12's failover figures on five real Caxton processes on loopback. Each round: a client sends 200
// requests/s to the agent `busy` through a node that does not run it; the node running it is SIGKILLed;
// measured: the death being declared (the client's node logs it) → the agent answering again, and how many
// requests were answered `failure` (by code) in that round (none may go unanswered). The killed node is then
// restarted on its data dir: it restores its old copy of `busy`, which now runs twice, and the time from
// its restart to a single owner is the healing figure of a crash-restart. Then, as root with iproute2 and
// iptables, partitions: five nodes in network namespaces split 3|2 by iptables until the majority has taken
// the minority's agents over, then healed; measured: heal → all five alive again everywhere, and heal → every
// agent on exactly one node. One JSON line per round, then summary lines with medians and maxima.
// Run: npx tsx bench/failover.ts [--kills 20] [--partitions 5]
import { api, firstChange, startClusterNode, waitAllAlive, waitUntil, type ClusterNode } from '../test/cluster/node/cluster-processes.ts';
import { exampleModule } from '../test/helpers/modules.ts';
import { startNode } from '../test/helpers/node-process.ts';
import { sendLoad, type LoadTally } from '../test/e2e/load.ts';
import { NetnsLab, netnsUnavailable } from '../test/helpers/netns.ts';
import { localAgents, nsCall, sees, startNsCluster, waitFor } from '../test/helpers/netns-cluster.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const KILLS = arg('--kills', 20);
const PARTITIONS = arg('--partitions', 5);
const RATE = 200;
const IDS = ['fb-1', 'fb-2', 'fb-3', 'fb-4', 'fb-5'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function localBusy(n: ClusterNode): Promise<boolean> {
  const r = await api<{ agents: { name: string }[] }>(n, 'GET', `/api/v1/agents?node=${n.id}`);
  return r.body.agents.some((a) => a.name === 'busy');
}

async function main(): Promise<void> {
  const nodes: ClusterNode[] = [];
  const first = await startClusterNode(IDS[0], ['--bootstrap']);
  nodes.push(first);
  const token = (await api<{ token: string }>(first, 'POST', '/api/v1/cluster/token', {})).body.token;
  nodes.push(...(await Promise.all(IDS.slice(1).map((id) => startClusterNode(id, ['--join', `127.0.0.1:${first.gossipPort}`, '--token', token])))));
  try {
    await waitAllAlive(nodes, IDS, 30_000);
    const deployed = await api<{ node: string }>(first, 'POST', '/api/v1/agents', { name: 'busy', module: Buffer.from(exampleModule('echo')).toString('base64') });
    if (deployed.status !== 201) throw new Error(`deploy: ${JSON.stringify(deployed.body)}`);
    const rounds: { recovered_ms: number; failures: number; heal_ms: number; unanswered: number }[] = [];
    for (let round = 1; round <= KILLS; round++) {
      await waitUntil('busy on one node, known everywhere', 30_000, async () => {
        const owners = (await Promise.all(nodes.map(localBusy))).filter(Boolean).length;
        const views = await Promise.all(nodes.map((n) => api<{ node: string }>(n, 'GET', '/api/v1/agents/busy')));
        return owners === 1 && new Set(views.map((v) => v.body.node)).size === 1;
      });
      await sleep(1500); // the standby fetches the module while the owner is alive
      const owner = (await api<{ node: string }>(first, 'GET', '/api/v1/agents/busy')).body.node;
      const victimIndex = nodes.findIndex((n) => n.id === owner);
      const victim = nodes[victimIndex];
      const via = nodes.find((n) => n !== victim)!;
      const tally: LoadTally = { sent: 0, answered: 0, inform: 0, failures: {}, unanswered: 0, extra: 0, firstInformAfter: undefined };
      let killedAt = 0;
      const loadStarted = Date.now();
      const load = sendLoad(via, 'busy', RATE, tally, () => killedAt);
      await sleep(1000);
      killedAt = Date.now();
      await victim.kill('SIGKILL');
      try {
        await waitUntil('busy answering again', 30_000, () => tally.firstInformAfter !== undefined);
      } catch (error) {
        for (const n of nodes) console.error(`--- ${n.id}\n${n.output().split('\n').filter((l) => /failover|"member changed"|error/.test(l)).slice(-20).join('\n')}`);
        console.error(JSON.stringify(tally));
        throw error;
      }
      await sleep(500);
      await load.stop();
      const achievedRate = Math.round(tally.sent / ((Date.now() - loadStarted) / 1000));
      const declaredAt = firstChange(via, victim.id, 'dead', killedAt) ?? killedAt;
      // The killed node comes back on its data dir, restores its copy: two copies until one yields.
      const restartedAt = Date.now();
      const again = await startNode({
        dataDir: victim.dataDir,
        nodeId: victim.id,
        apiPort: victim.apiPort,
        gossipPort: victim.gossipPort,
        args: ['--join', `127.0.0.1:${via.gossipPort}`],
        env: { CAXTON_LOG_LEVEL: 'info' },
      });
      nodes[victimIndex] = Object.assign(again, { id: victim.id });
      await waitAllAlive(nodes, IDS, 30_000);
      await waitUntil('a single owner after the restart', 60_000, async () => (await Promise.all(nodes.map(localBusy))).filter(Boolean).length === 1, 50);
      const healMs = Date.now() - restartedAt;
      const failures = Object.values(tally.failures).reduce((a, b) => a + b, 0);
      const line = {
        bench: 'failover',
        round,
        killed: victim.id,
        declared_after_kill_ms: declaredAt - killedAt,
        answering_after_declared_ms: tally.firstInformAfter! - declaredAt,
        requests: tally.sent,
        requests_per_second: achievedRate,
        unanswered: tally.unanswered,
        failures,
        failures_by_code: tally.failures,
        restart_to_single_owner_ms: healMs,
      };
      console.log(JSON.stringify(line));
      rounds.push({ recovered_ms: line.answering_after_declared_ms, failures, heal_ms: healMs, unanswered: tally.unanswered + tally.extra });
    }
    const rec = rounds.map((r) => r.recovered_ms);
    console.log(
      JSON.stringify({
        bench: 'failover',
        summary: true,
        kills: rounds.length,
        answering_after_declared_ms_median: median(rec),
        answering_after_declared_ms_max: Math.max(...rec),
        failures_per_kill_median: median(rounds.map((r) => r.failures)),
        failures_per_kill_max: Math.max(...rounds.map((r) => r.failures)),
        requests_unanswered_or_answered_twice: rounds.reduce((sum, r) => sum + r.unanswered, 0),
        restart_to_single_owner_ms_median: median(rounds.map((r) => r.heal_ms)),
        restart_to_single_owner_ms_max: Math.max(...rounds.map((r) => r.heal_ms)),
        note: `${RATE} requests/s through another node; failures are LINK_LOST (in flight to the dead node) and NODE_UNREACHABLE (sent before the death was declared and the agent placed)`,
      }),
    );
  } finally {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  }
}

async function partitions(): Promise<void> {
  if (PARTITIONS <= 0) return;
  const unavailable = netnsUnavailable({ iptables: true });
  if (unavailable) {
    console.error(`bench failover: partitions SKIPPED: ${unavailable}`);
    return;
  }
  const lab = new NetnsLab();
  try {
    const ids = ['bp-1', 'bp-2', 'bp-3', 'bp-4', 'bp-5'];
    const nodes = await startNsCluster(lab, ids);
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const names = Array.from({ length: 20 }, (_, i) => `part-${i}`);
    for (const name of names) {
      const r = await nsCall(nodes[0], 'POST', '/api/v1/agents', { name, module }, 30_000);
      if (r.status !== 201) throw new Error(`deploy ${name}: ${JSON.stringify(r.body)}`);
    }
    const singleOwner = async (): Promise<boolean> => {
      const flat = (await Promise.all(nodes.map(localAgents))).flat();
      return flat.length === names.length && names.every((n) => flat.includes(n));
    };
    const heals: { alive_ms: number; single_owner_ms: number }[] = [];
    for (let round = 1; round <= PARTITIONS; round++) {
      await waitFor('a single owner per agent', 60_000, singleOwner, nodes);
      await sleep(2000);
      const shuffled = [...nodes].sort(() => Math.random() - 0.5);
      const majority = shuffled.slice(0, 3);
      const minority = shuffled.slice(3);
      const before = (await Promise.all(minority.map(localAgents))).flat();
      lab.partition(
        majority.map((n) => n.host),
        minority.map((n) => n.host),
      );
      const cutAt = Date.now();
      await waitFor('the majority to run every agent', 30_000, async () => {
        const owned = new Set((await Promise.all(majority.map(localAgents))).flat());
        return names.every((n) => owned.has(n));
      }, nodes);
      const takenOverMs = Date.now() - cutAt;
      lab.heal();
      const healedAt = Date.now();
      const aliveMs = await waitFor('five alive everywhere', 60_000, async () => (await Promise.all(nodes.map((n) => sees(n, ids, 'alive')))).every(Boolean), nodes);
      await waitFor('a single owner per agent after healing', 60_000, singleOwner, nodes);
      const singleOwnerMs = Date.now() - healedAt;
      heals.push({ alive_ms: aliveMs, single_owner_ms: singleOwnerMs });
      console.log(
        JSON.stringify({
          bench: 'failover-partition',
          round,
          minority: minority.map((n) => n.id),
          minority_agents: before.length,
          cut_to_taken_over_ms: takenOverMs,
          heal_to_all_alive_ms: aliveMs,
          heal_to_single_owner_ms: singleOwnerMs,
        }),
      );
    }
    console.log(
      JSON.stringify({
        bench: 'failover-partition',
        summary: true,
        partitions: heals.length,
        agents: names.length,
        heal_to_all_alive_ms_median: median(heals.map((h) => h.alive_ms)),
        heal_to_single_owner_ms_median: median(heals.map((h) => h.single_owner_ms)),
        heal_to_single_owner_ms_max: Math.max(...heals.map((h) => h.single_owner_ms)),
      }),
    );
  } finally {
    await lab.cleanup();
  }
}

(KILLS > 0 ? main() : Promise.resolve())
  .then(partitions)
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
