// Peak RSS of a real node while many unauthenticated TCP connections to its gossip port each declare a huge
// body and send all of it but the last byte, then hold (issue 10, finding 2). Prints one JSON line per run.
// Usage: npx tsx bench/gossip-tcp-flood.ts [connections=40] [--encrypt] [--declared-mib N (default: just under 20)]
import type { Socket } from 'node:net';
import { startNode } from '../test/helpers/node-process.ts';
import { floodConnection, readRssKiB } from '../test/hardening/gossip-flood.ts';

const connections = Number(process.argv[2] ?? 40);
const encrypt = process.argv.includes('--encrypt');
const declaredAt = process.argv.indexOf('--declared-mib');
const declaredBytes = declaredAt > 0 ? Number(process.argv[declaredAt + 1]) * 1024 * 1024 : undefined;
const key = Buffer.alloc(16, 7).toString('base64');
const node = await startNode({ nodeId: 'target', args: encrypt ? ['--encrypt', key] : [] });
const pid = node.child.pid!;
await new Promise((r) => setTimeout(r, 500));
const before = readRssKiB(pid);
const sockets: Socket[] = [];
let peak = before.rss;
const sampler = setInterval(() => (peak = Math.max(peak, readRssKiB(pid).rss)), 100);
const started = Date.now();
await Promise.all(Array.from({ length: connections }, () => floodConnection(node.gossipPort, encrypt, sockets, declaredBytes)));
await new Promise((r) => setTimeout(r, 3000));
clearInterval(sampler);
const after = readRssKiB(pid);
const alive = node.child.exitCode === null;
for (const s of sockets) s.destroy();
await node.kill('SIGKILL');
console.log(JSON.stringify({ bench: 'gossip-tcp-flood', connections, encrypt, declared_mib: +((declaredBytes ?? 20 * 1024 * 1024) / 1048576).toFixed(1), rss_before_mib: +(before.rss / 1024).toFixed(1), rss_peak_sampled_mib: +(peak / 1024).toFixed(1), hwm_mib: +(after.hwm / 1024).toFixed(1), alive, seconds: (Date.now() - started) / 1000 }));
