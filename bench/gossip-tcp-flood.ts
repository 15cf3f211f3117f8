// Peak RSS of a real node while many unauthenticated TCP connections to its gossip port each declare a large
// body and send all of it but the last byte, then hold (issue 10, finding 2). One JSON line per run, then the
// medians. Usage: npx tsx bench/gossip-tcp-flood.ts [connections=40] [--encrypt] [--declared-mib N (default:
// just under memberlist's 20 MiB)] [--runs N (default 3)]
import type { Socket } from 'node:net';
import { startNode } from '../test/helpers/node-process.ts';
import { floodConnection, readRssKiB } from '../test/hardening/gossip-flood.ts';

const connections = Number(process.argv[2] ?? 40);
const encrypt = process.argv.includes('--encrypt');
const flag = (name: string): number | undefined => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : undefined;
};
const declaredMib = flag('--declared-mib');
const declaredBytes = declaredMib === undefined ? undefined : declaredMib * 1024 * 1024;
const runs = flag('--runs') ?? 3;
const key = Buffer.alloc(16, 7).toString('base64');

async function once(): Promise<{ before: number; peak: number; alive: boolean }> {
  const node = await startNode({ nodeId: 'target', args: encrypt ? ['--encrypt', key] : [] });
  const pid = node.child.pid!;
  await new Promise((r) => setTimeout(r, 500));
  const before = readRssKiB(pid).rss / 1024;
  const sockets: Socket[] = [];
  await Promise.all(Array.from({ length: connections }, () => floodConnection(node.gossipPort, encrypt, sockets, declaredBytes)));
  await new Promise((r) => setTimeout(r, 3000));
  const peak = readRssKiB(pid).hwm / 1024;
  const alive = node.child.exitCode === null;
  for (const s of sockets) s.destroy();
  await node.kill('SIGKILL');
  return { before, peak, alive };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
const base = { bench: 'gossip-tcp-flood', connections, encrypt, declared_mib: declaredMib ?? 20 };
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(JSON.stringify({ ...base, run: i + 1, rss_before_mib: +r.before.toFixed(1), peak_rss_mib: +r.peak.toFixed(1), growth_mib: +(r.peak - r.before).toFixed(1), alive: r.alive }));
}
console.log(
  JSON.stringify({
    ...base,
    runs,
    median_rss_before_mib: +median(results.map((r) => r.before)).toFixed(1),
    median_peak_rss_mib: +median(results.map((r) => r.peak)).toFixed(1),
    median_growth_mib: +median(results.map((r) => r.peak - r.before)).toFixed(1),
    all_alive: results.every((r) => r.alive),
  }),
);
