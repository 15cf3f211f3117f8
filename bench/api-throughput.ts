// REST throughput of one real node (a child process, default settings: auth, audit and limits on), measured
// with autocannon, side by side in the same run so the ratios hold on a shared machine:
//   health          GET /health (public, no work): the ceiling of the HTTP stack
//   send_wait       POST /api/v1/messages?wait_ms=1000 to an echo agent: request, route, invoke, reply
//   authenticated   GET /api/v1/cluster/status with the admin key: the cheapest authenticated request
//   rejected_401    GET /api/v1/cluster/status with a wrong key: a refused login
// (these two on a second node whose budgets are lifted, so that they measure the work, not the limiter)
//   rejected_429    the same at the default budget: a source past it, refused before any lookup
// Each round runs every scenario once (interleaved); JSON lines per measurement, then medians and ratios.
// Requests per second count 2xx answers only, except in the refusal scenarios: the standard node keeps its default
// per-principal budget (50,000/s for admin), and a send_wait that outruns it gets cheap 429s.
// Besides requests per second, each measurement gives the node's CPU time per request (utime + stime of the
// node process from /proc, before and after, divided by the requests answered): autocannon shares the
// machine, so on a loaded VM throughput ratios swing while CPU per request holds up.
// Usage: node --import tsx bench/api-throughput.ts [rounds=3] [seconds=5] [connections=32] [scenario,scenario...]
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { startNode, type NodeProcess } from '../test/helpers/node-process.ts';
import { cpuSecondsOf } from './lib/process-cpu.ts';
import { median, round } from './lib/stats.ts';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const connections = Number(process.argv[4] ?? 32);
/** Only these scenarios (comma-separated), e.g. `health,send_wait` while working on the send path. */
const only = process.argv[5]?.split(',');

interface Scenario {
  name: string;
  node: () => NodeProcess;
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The answers that count: 2xx (the default), or every answer (the refusal scenarios measure refusals). */
  counts?: 'ok' | 'all';
}

interface Figure {
  rps: number;
  /** Node CPU time (user + system) per answered request, in microseconds. */
  cpu_us_per_request: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  statuses: Record<string, number>;
}

async function measure(s: Scenario): Promise<Figure> {
  const pid = s.node().child.pid;
  const cpuBefore = cpuSecondsOf(pid);
  const result = await autocannon({
    url: s.node().url + s.path,
    method: s.method ?? 'GET',
    headers: s.headers,
    body: s.body,
    connections,
    duration: seconds,
  });
  const cpuSeconds = cpuSecondsOf(pid) - cpuBefore;
  const statuses: Record<string, number> = {};
  for (const key of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) if (result[key]) statuses[key] = result[key];
  // A 429 (the caller's budget spent) is far cheaper than the work: counting it would flatter a scenario that
  // outran its budget, so a success scenario counts its 2xx only, for throughput and for CPU per request.
  const counted = (s.counts ?? 'ok') === 'ok' ? result['2xx'] : result.requests.total;
  return {
    rps: round(counted / seconds, 0),
    cpu_us_per_request: round((cpuSeconds * 1e6) / Math.max(1, counted), 1),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non2xx: result.non2xx,
    statuses,
  };
}

async function main(): Promise<void> {
  const standard = await startNode();
  // A second node whose budgets are lifted: refused logins are measured as 401s (not 429s), and the
  // authenticated baseline is not cut at the admin's 50,000/s.
  const lifted = await startNode({
    env: { CAXTON_API_AUTH_FAILURES_MAX: '1000000000', CAXTON_API_RATE_LIMIT_ROLES: 'admin=100000000' },
  });
  try {
    const admin = { authorization: `Bearer ${standard.apiKey()}` };
    const deploy = await fetch(`${standard.url}/api/v1/agents`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'echo', module: readFileSync('examples/build/echo.wasm').toString('base64') }),
    });
    if (deploy.status !== 201) throw new Error(`deploy failed: ${deploy.status} ${await deploy.text()}`);
    const wrong = { authorization: 'Bearer cxk_not-a-key-of-this-node-at-all-000000000000000' };
    const scenarios: Scenario[] = [
      { name: 'health', node: () => standard, path: '/health' },
      {
        name: 'send_wait',
        node: () => standard,
        path: '/api/v1/messages?wait_ms=1000',
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ performative: 'request', receiver: 'echo', content: { n: 1 } }),
      },
      { name: 'authenticated', node: () => lifted, path: '/api/v1/cluster/status', headers: { authorization: `Bearer ${lifted.apiKey()}` } },
      { name: 'rejected_401', node: () => lifted, path: '/api/v1/cluster/status', headers: wrong, counts: 'all' },
      { name: 'rejected_429', node: () => standard, path: '/api/v1/cluster/status', headers: wrong, counts: 'all' },
    ];
    const chosen = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
    const figures = new Map<string, number[]>(chosen.map((s) => [s.name, []]));
    const cpu = new Map<string, number[]>(chosen.map((s) => [s.name, []]));
    for (let round_ = 1; round_ <= rounds; round_++) {
      for (const scenario of chosen) {
        const figure = await measure(scenario);
        figures.get(scenario.name)!.push(figure.rps);
        cpu.get(scenario.name)!.push(figure.cpu_us_per_request);
        console.log(JSON.stringify({ bench: 'api-throughput', round: round_, scenario: scenario.name, connections, seconds, ...figure }));
        // Let the failed-login window of the standard node pass before anything else measures it.
        if (scenario.name === 'rejected_429') await new Promise((r) => setTimeout(r, 100));
      }
    }
    const med = (name: string): number => (figures.has(name) ? median(figures.get(name)!) : NaN);
    const medCpu = (name: string): number => (cpu.has(name) ? median(cpu.get(name)!) : NaN);
    console.log(
      JSON.stringify({
        bench: 'api-throughput',
        summary: true,
        rounds,
        connections,
        median_rps: Object.fromEntries(chosen.map((s) => [s.name, med(s.name)])),
        median_cpu_us_per_request: Object.fromEntries(chosen.map((s) => [s.name, medCpu(s.name)])),
        send_wait_vs_health: round(med('send_wait') / med('health'), 2),
        // The same ratio from CPU per request (health's cost ÷ a send's): what the node alone would reach.
        send_wait_vs_health_by_cpu: round(medCpu('health') / medCpu('send_wait'), 2),
        rejected_401_vs_authenticated: round(med('rejected_401') / med('authenticated'), 2),
        rejected_429_vs_authenticated: round(med('rejected_429') / med('authenticated'), 2),
      }),
    );
  } finally {
    await standard.kill();
    await lifted.kill();
  }
}

await main();
