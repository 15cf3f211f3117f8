// A guesser spread over many addresses against a real node (a child process, default settings), over real
// sockets: what a refused request costs the node next to an authenticated one, by the node's CPU time.
//   authenticated   GET /api/v1/cluster/status with a key the node has verified before, `perAddress` requests
//                   per keep-alive connection, from 127.0.0.1
//   spread_guesser  the same route with wrong keys shaped like real ones (each is hashed and looked up), one
//                   keep-alive connection per address (127.2.x.y: Linux routes all of 127/8 to loopback), each
//                   address sending `perAddress` requests: its first api.auth_failures_max (10) are 401s, the
//                   rest 429s, as a botnet sees it
// Both use the same client code and concurrency; rounds alternate the two. The node's CPU time comes from
// /proc (utime + stime) before and after, divided by the requests answered. JSON lines, then medians and the
// ratio (below 1: a refused request is cheaper than an authenticated one).
// Usage: node --import tsx bench/api-auth-spread.ts [rounds=5] [addresses=2000] [perAddress=20] [concurrency=32]
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { startNode, type NodeProcess } from '../test/helpers/node-process.ts';
import { cpuSecondsOf } from './lib/process-cpu.ts';
import { median, round } from './lib/stats.ts';

const rounds = Number(process.argv[2] ?? 5);
const addresses = Number(process.argv[3] ?? 2000);
const perAddress = Number(process.argv[4] ?? 20);
const concurrency = Number(process.argv[5] ?? 32);

/** `count` GETs one after another on one keep-alive connection from `localAddress`; the statuses seen. */
async function client(node: NodeProcess, localAddress: string, key: string, count: number, statuses: Map<number, number>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress });
  try {
    for (let i = 0; i < count; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: node.apiPort, path: '/api/v1/cluster/status', agent, headers: { authorization: `Bearer ${key}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  } finally {
    agent.destroy();
  }
}

/** Runs `jobs` with at most `concurrency` at once. */
async function pool(jobs: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

const node = await startNode();
let addressBase = 0;
let statuses = new Map<number, number>();
try {
  const key = node.apiKey();
  const wrongKey = `cxk_${'A'.repeat(43)}`;
  const scenarios: Record<string, () => (() => Promise<void>)[]> = {
    authenticated: () => Array.from({ length: addresses }, () => () => client(node, '127.0.0.1', key, perAddress, statuses)),
    // Fresh addresses each round: a blocked address would only ever see 429s.
    spread_guesser: () =>
      Array.from({ length: addresses }, () => {
        const n = addressBase++;
        return () => client(node, `127.${2 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, wrongKey, perAddress, statuses);
      }),
  };
  const cpu = new Map<string, number[]>(Object.keys(scenarios).map((name) => [name, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const [name, jobs] of Object.entries(scenarios)) {
      statuses = new Map();
      const before = cpuSecondsOf(node.child.pid);
      const started = process.hrtime.bigint();
      await pool(jobs());
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
      const us = ((cpuSecondsOf(node.child.pid) - before) * 1e6) / answered;
      cpu.get(name)!.push(us);
      console.log(
        JSON.stringify({ bench: 'api-auth-spread', round: r, scenario: name, requests: answered, rps: round(answered / seconds, 0), node_cpu_us_per_request: round(us, 1), statuses: Object.fromEntries(statuses) }),
      );
    }
  }
  const med = (name: string): number => median(cpu.get(name)!);
  console.log(
    JSON.stringify({
      bench: 'api-auth-spread',
      summary: true,
      rounds,
      addresses,
      per_address: perAddress,
      median_node_cpu_us_per_request: { authenticated: round(med('authenticated'), 1), spread_guesser: round(med('spread_guesser'), 1) },
      spread_guesser_vs_authenticated: round(med('spread_guesser') / med('authenticated'), 2),
    }),
  );
} finally {
  await node.kill();
  rmSync(node.dataDir, { recursive: true, force: true });
}
