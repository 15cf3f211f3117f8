// Runs the hostile clients of the soak test in a process of their own, so the honest client's timings in
// the test process measure the node, not the load generator. Usage (the test spawns it):
//   node --import tsx test/hardening/hostile-runner.ts '<HostileTarget JSON>' SECONDS KIND=COUNT ...
// Prints one JSON line of counts when done.
import { runHostile, type HostileCounts, type HostileKind, type HostileTarget } from './hostile-load.ts';

const [targetJson, secondsText, ...mix] = process.argv.slice(2);
const target = JSON.parse(targetJson) as HostileTarget;
const stop = new AbortController();
const counts: HostileCounts = { requests: 0, datagrams: 0, connections: 0, errors: 0 };
const runs: Promise<void>[] = [];
for (const entry of mix) {
  const [kind, count] = entry.split('=');
  for (let i = 0; i < Number(count); i++) runs.push(runHostile(kind as HostileKind, target, stop.signal, counts).catch(() => void counts.errors++));
}
setTimeout(() => stop.abort(), Number(secondsText) * 1000);
await Promise.allSettled(runs);
console.log(JSON.stringify(counts));
process.exit(0);
