// Server-side cost of one request by how it ends, measured in one process with fastify.inject against the real
// node's API (no sockets, no load generator competing for the CPU): an authenticated cheap GET against refused
// ones. Scenarios alternate in slices of 640 requests within each round; JSON lines per round, then medians and ratios.
//   authenticated      GET /api/v1/cluster/status with the admin key (known, so from memory)
//   rejected_401_key   a wrong key shaped like one (hash + one SQLite lookup)
//   rejected_401_jwt   a wrong JWT (signature check fails)
//   rejected_429       a source past its failed-login budget (refused before any lookup)
// inject's own work per request (~40 µs here) is most of every figure, and weighs on a refusal, which does little
// else, more than on a served request: bench/api-auth-spread.ts measures the node's CPU over real sockets.
// Usage: node --import tsx bench/api-auth-cost.ts [rounds=5] [requests=20000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { CaxtonNode } from '../src/node/node.ts';
import { median, round } from './lib/stats.ts';

const rounds = Number(process.argv[2] ?? 5);
const requests = Number(process.argv[3] ?? 20_000);
const BATCH = 32;
/** Requests of one scenario before the next takes its turn. */
const SLICE = 640;

const dataDir = mkdtempSync(join(tmpdir(), 'caxton-auth-cost-'));
const config = loadConfig({
  flags: {
    dataDir,
    logLevel: 'silent',
    apiAddr: '127.0.0.1:0',
    'auth.jwt_issuer': 'https://issuer.example/',
    'auth.jwt_secret': 'a-shared-secret-of-at-least-32-characters!',
    'api.rate_limit_roles': ['admin=100000000'],
  },
  env: {},
});
const node = await CaxtonNode.start({ config, listen: 'inject', gossip: false });
const wrongKey = `cxk_${'A'.repeat(43)}`;
const wrongJwt = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLyIsInN1YiI6ImEiLCJleHAiOjQxMDI0NDQ4MDB9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
let address = 0;
const scenarios: Record<string, () => Promise<unknown>> = {
  authenticated: () => node.api!.inject({ url: '/api/v1/cluster/status', headers: { authorization: `Bearer ${node.state.adminKey.key}` } }),
  // A fresh address for each: measured as refusals of credentials, not of a blocked source.
  rejected_401_key: () =>
    node.api!.inject({ url: '/api/v1/cluster/status', headers: { authorization: `Bearer ${wrongKey}` }, remoteAddress: `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address++ & 255}` }),
  rejected_401_jwt: () =>
    node.api!.inject({ url: '/api/v1/cluster/status', headers: { authorization: `Bearer ${wrongJwt}` }, remoteAddress: `11.${(address >> 16) & 255}.${(address >> 8) & 255}.${address++ & 255}` }),
  rejected_429: () => node.api!.inject({ url: '/api/v1/cluster/status', headers: { authorization: `Bearer ${wrongKey}` }, remoteAddress: '192.0.2.1' }),
};

const perRequest = new Map<string, number[]>(Object.keys(scenarios).map((name) => [name, []]));
try {
  for (let r = 1; r <= rounds; r++) {
    // Small slices of each scenario in turn: on a shared machine a slow second then falls on all of them alike.
    const elapsedNs = new Map<string, bigint>(Object.keys(scenarios).map((name) => [name, 0n]));
    for (let done = 0; done < requests; done += SLICE) {
      for (const [name, run] of Object.entries(scenarios)) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < SLICE; i += BATCH) {
          await Promise.all(Array.from({ length: BATCH }, run));
          // inject completes in microtasks, so without this the loop never reaches the event loop's check phase and
          // every request's setImmediate (light-my-request's, ~10 KB held each) piles up: GC then dominates.
          await new Promise(setImmediate);
        }
        elapsedNs.set(name, elapsedNs.get(name)! + (process.hrtime.bigint() - start));
      }
    }
    for (const [name, ns] of elapsedNs) {
      const us = Number(ns) / 1000 / requests;
      perRequest.get(name)!.push(us);
      console.log(JSON.stringify({ bench: 'api-auth-cost', round: r, scenario: name, requests, us_per_request: round(us, 1) }));
    }
  }
  const med = (name: string): number => median(perRequest.get(name)!);
  console.log(
    JSON.stringify({
      bench: 'api-auth-cost',
      summary: true,
      rounds,
      median_us_per_request: Object.fromEntries([...perRequest.keys()].map((name) => [name, round(med(name), 1)])),
      rejected_401_key_vs_authenticated: round(med('rejected_401_key') / med('authenticated'), 2),
      rejected_401_jwt_vs_authenticated: round(med('rejected_401_jwt') / med('authenticated'), 2),
      rejected_429_vs_authenticated: round(med('rejected_429') / med('authenticated'), 2),
    }),
  );
} finally {
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
