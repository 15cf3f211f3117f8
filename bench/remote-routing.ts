// Issue 9's remote figures, between two Caxton nodes of one cluster in this process (A bootstraps, B joins
// with a join token; messages cross the real routing link, TLS 1.3 on loopback), each run alternating with
// the references (the machine has 2 CPUs: all peers share this process), medians of BENCH_RUNS runs:
//   - request/reply between agents: ping on A sends a request to pong on B on every message it gets, pong
//     answers each with an inform. Round trips/s with 64 in flight (64 messages kicked into ping), and
//     P50/P99 of one round trip at one in flight (the time between consecutive sends of ping), with where
//     that time goes (link A→B, pong's turn on B, link B→A, ping's turn on A). Next to (a) a raw TLS echo
//     with the links' framing and a message of the size ping sends, and (b) Moleculer 0.15 over its TCP
//     transporter, two brokers, an echo action with the same message as params.
//   - one-way throughput on the link: messages routed on A (sender client:bench) to a sink agent on B,
//     counted when B's runtime has invoked the sink with them (a bounded number outstanding).
//   - fetch of a 1 MiB module from the peer: module.get over the link, as a deploy on another node does.
//   - memory per idle peer link (RoutingLinks alone: one hub and N peers, the links opened after the nodes).
// Run: npx tsx bench/remote-routing.ts   (prints JSON lines)
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeAclMessage } from '../src/cluster/routing/message-codec.ts';
import { sha256Hex } from '../src/state/module-store.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import type { CaxtonNode } from '../src/node/node.ts';
import { startNodes, stopNodes } from '../test/cluster/routing/link-fixture.ts';
import { measureEcho, moleculerEcho, rawTlsEcho, type EchoFigures } from './lib/echo-peers.ts';
import { latencyMicros, median, round } from './lib/stats.ts';
import { deployOn, startTwoNodes, until, type TwoNodes } from './lib/two-nodes.ts';
import { benchAgent } from './lib/wat.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const WARMUP_MS = 500;
const IN_FLIGHT = 64;
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 5000);
const ONE_WAY_MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
/** Messages outstanding (sent, not yet handled by the sink); the sink's mailbox is set above it. */
const ONE_WAY_WINDOW = 8000;
const FETCHES = 5;
const IDLE_LINKS = 31;

const ping = await benchAgent('ping');
const pong = await benchAgent('pong');
const wabt = await (await import('wabt')).default();
const wat = (source: string): Uint8Array<ArrayBuffer> => new Uint8Array(wabt.parseWat('bench.wat', source).toBinary({}).buffer);
/** Handles every message by doing nothing. */
const sink = wat(`(module (memory (export "memory") 1)
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`);
/** A valid agent of 1 MiB: a data segment of 1 MiB of pseudo-random bytes (a module with large static data). */
function bigModule(): Uint8Array<ArrayBuffer> {
  const data = Buffer.alloc(1 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  const escaped = Array.from(data, (b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  return wat(`(module (memory (export "memory") 20)
  (data (i32.const 65536) "${escaped}")
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`);
}
const big = bigModule();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const line = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

function kick(node: CaxtonNode, n: number): void {
  for (let i = 0; i < n; i++) {
    node.router.route({ performative: 'inform', sender: 'client:bench', receiver: 'ping', message_id: randomUUID(), conversation_id: randomUUID() });
  }
}

/** Wraps a router method with a hook that sees the message first and may drop it (returns false). */
function hook(node: CaxtonNode, method: 'route' | 'deliverFromPeer', see: (message: AclMessage) => boolean): void {
  const router = node.router as unknown as Record<string, (message: AclMessage, receiver?: string) => void>;
  const original = router[method].bind(node.router);
  router[method] = (message: AclMessage, receiver?: string) => {
    if (see(message)) original(message, receiver);
  };
}

interface CaxtonRun {
  round_trips_per_s: number;
  round_trips_per_cpu_s: number;
  /** Share of the throughput phase the event loop was busy (the rest it waited for I/O or timers). */
  event_loop_utilization: number;
  p50_us: number;
  p99_us: number;
  /** Medians of the four parts of one round trip at one in flight. */
  split_us: { link_a_to_b: number; pong_turn_on_b: number; link_b_to_a: number; ping_turn_on_a: number };
  one_way_msgs_per_s: number;
  one_way_msgs_per_cpu_s: number;
  fetch_1mib_ms: number;
  /** The bytes one of ping's requests takes on the link (receiver + JSON text, MessagePack strings). */
  wire_bytes: Buffer;
  wire_message: AclMessage;
}

async function caxtonRun(): Promise<CaxtonRun> {
  const nodes: TwoNodes = await startTwoNodes();
  try {
    const { a, b } = nodes;
    await deployOn(nodes, a, a, 'ping', ping);
    await deployOn(nodes, a, b, 'pong', pong);
    await deployOn(nodes, a, b, 'sink', sink, 2 * ONE_WAY_WINDOW);
    await deployOn(nodes, a, b, 'big', big);

    // Hooks: ping's sends on A (counted, time-stamped, dropped when a phase ends), and the arrivals and
    // pong's sends on B and arrivals on A, for the split of one round trip.
    let pingSends = 0;
    let dropPing = false;
    let wire: { bytes: Buffer; message: AclMessage } | undefined;
    let stamp: ((part: 0 | 1 | 2 | 3) => void) | undefined;
    hook(a, 'route', (m) => {
      if (m.sender !== 'ping') return true;
      wire ??= { bytes: encodeAclMessage(m, 'pong'), message: m };
      stamp?.(0);
      pingSends++;
      return !dropPing;
    });
    hook(b, 'deliverFromPeer', (m) => (m.sender === 'ping' && stamp?.(1), true));
    hook(b, 'route', (m) => (m.sender === 'pong' && stamp?.(2), true));
    hook(a, 'deliverFromPeer', (m) => (m.sender === 'pong' && stamp?.(3), true));

    // Throughput, 64 in flight.
    kick(a, IN_FLIGHT);
    await sleep(WARMUP_MS);
    const start = pingSends;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await sleep(DURATION_MS);
    const trips = pingSends - start;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    dropPing = true;
    await sleep(200); // what was in flight comes back to ping and ends there
    dropPing = false;

    // Latency, one in flight: consecutive sends of ping, and the four timestamps in between.
    const total = new Float64Array(LATENCY_SAMPLES);
    const parts = [0, 1, 2, 3].map(() => new Float64Array(LATENCY_SAMPLES));
    let n = -500;
    let last = [0n, 0n, 0n, 0n];
    let finished: () => void = () => {};
    const latencyDone = new Promise<void>((r) => (finished = r));
    stamp = (part) => {
      const now = process.hrtime.bigint();
      if (part === 0) {
        if (n >= 0 && n < LATENCY_SAMPLES) {
          total[n] = Number(now - last[0]);
          parts[0][n] = Number(last[1] - last[0]);
          parts[1][n] = Number(last[2] - last[1]);
          parts[2][n] = Number(last[3] - last[2]);
          parts[3][n] = Number(now - last[3]);
        }
        n++;
        if (n === LATENCY_SAMPLES) {
          dropPing = true;
          finished();
        }
      }
      last[part] = now;
    };
    last = last.map(() => process.hrtime.bigint());
    kick(a, 1);
    await latencyDone;
    stamp = undefined;
    await sleep(50);
    const split = parts.map((p) => latencyMicros(p).p50_us);

    // One-way on the link: A routes client messages to sink on B; counted once B's runtime handled them.
    const handled = (): number => b.runtime.stats('sink').invocations;
    const conversation = randomUUID();
    const oneWay = (i: number): AclMessage => ({
      performative: 'inform',
      sender: 'client:bench',
      receiver: 'sink',
      content: { seq: i, text: 'hello from the other node' },
      message_id: `m-${i}`,
      conversation_id: conversation,
    });
    /** Sends `count` messages, at most ONE_WAY_WINDOW not yet handled on B; resolves when all were handled. */
    const pumpOneWay = (count: number, first: number): Promise<void> => {
      const base = handled();
      let sent = 0;
      return new Promise<void>((resolve) => {
        const pump = (): void => {
          const done = handled() - base;
          if (done >= count) return resolve();
          const limit = Math.min(count, done + ONE_WAY_WINDOW);
          for (; sent < limit; sent++) a.router.route(oneWay(first + sent));
          setImmediate(pump);
        };
        pump();
      });
    };
    await pumpOneWay(ONE_WAY_MESSAGES / 5, 0); // warm-up
    const oneWayCpu0 = process.cpuUsage();
    const oneWayStart = performance.now();
    await pumpOneWay(ONE_WAY_MESSAGES, ONE_WAY_MESSAGES);
    const oneWayPerSecond = (ONE_WAY_MESSAGES * 1000) / (performance.now() - oneWayStart);
    const oneWayPerCpuSecond = ONE_WAY_MESSAGES / cpuSeconds(oneWayCpu0);

    // Fetch of the 1 MiB module B stored when `big` was deployed there.
    const sha256 = sha256Hex(big);
    if (!b.state.modules.has(sha256)) throw new Error('bench: the 1 MiB module is not in B\'s store');
    const fetches: number[] = [];
    for (let i = 0; i < FETCHES + 1; i++) {
      const t = performance.now();
      const reply = (await a.cluster!.routing!.request(b.nodeId, 'module.get', { sha256 }, 10_000)) as { ok?: Uint8Array };
      const ms = performance.now() - t;
      if (!reply?.ok || reply.ok.length !== big.length) throw new Error(`bench: module.get answered ${JSON.stringify(reply).slice(0, 200)}`);
      if (i > 0) fetches.push(ms); // the first warms the path
    }

    if (!wire) throw new Error('bench: ping sent nothing');
    return {
      round_trips_per_s: trips / seconds,
      round_trips_per_cpu_s: trips / cpu,
      event_loop_utilization: elu,
      ...latencyMicros(total),
      split_us: { link_a_to_b: split[0], pong_turn_on_b: split[1], link_b_to_a: split[2], ping_turn_on_a: split[3] },
      one_way_msgs_per_s: oneWayPerSecond,
      one_way_msgs_per_cpu_s: oneWayPerCpuSecond,
      fetch_1mib_ms: median(fetches),
      wire_bytes: wire.bytes,
      wire_message: wire.message,
    };
  } finally {
    await nodes.stop();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function echoRun(open: () => Promise<{ call(): Promise<void>; close(): Promise<void> }>): Promise<EchoFigures> {
  const peer = await open();
  try {
    return await measureEcho(peer, IN_FLIGHT, DURATION_MS, WARMUP_MS, LATENCY_SAMPLES);
  } finally {
    await peer.close();
  }
}

/** A full collection, so heap figures are not what the last one left behind. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    await sleep(100);
    gc();
  }
  return process.memoryUsage();
}

/**
 * Memory of N idle links: hub + N peers started first (their RoutingLinks, TLS contexts and TCP servers are
 * not counted), then each peer's link to the hub opened with one message and left idle.
 */
async function idleLinkMemory(): Promise<{ links: number; rss_kib_per_link: number; heap_kib_per_link: number; external_kib_per_link: number }> {
  const ids = ['hub', ...Array.from({ length: IDLE_LINKS }, (_, i) => `peer-${i}`)];
  const { nodes } = await startNodes(ids);
  try {
    const hub = nodes.get('hub')!;
    let got = 0;
    hub.links.onMessage(() => got++);
    // A first link, so one-time costs (TLS session setup code paths, buffers) are not counted per link.
    nodes.get('peer-0')!.links.sendMessage('hub', { performative: 'inform', sender: 'p0', receiver: 'hub', message_id: 'm0', conversation_id: 'c' }, 'hub');
    await until('first link up', () => got >= 1, 20_000);
    const before = await settledMemory();
    for (let i = 1; i < IDLE_LINKS; i++) {
      nodes.get(`peer-${i}`)!.links.sendMessage('hub', { performative: 'inform', sender: `p${i}`, receiver: 'hub', message_id: `m${i}`, conversation_id: 'c' }, 'hub');
    }
    await until('idle links up', () => got >= IDLE_LINKS, 20_000);
    await sleep(200);
    const after = await settledMemory();
    // Both ends of every link live here: per link = both ends (the hub's and the peer's).
    const per = (key: 'rss' | 'heapUsed' | 'external') => round((after[key] - before[key]) / 1024 / (IDLE_LINKS - 1), 1);
    return { links: IDLE_LINKS - 1, rss_kib_per_link: per('rss'), heap_kib_per_link: per('heapUsed'), external_kib_per_link: per('external') };
  } finally {
    await stopNodes(nodes);
  }
}

// First, while the process is small and its RSS stable (later runs leave memory the allocator gives back slowly).
const idleLinks = await idleLinkMemory();
const caxton: CaxtonRun[] = [];
const raw: EchoFigures[] = [];
const moleculer: EchoFigures[] = [];
for (let run = 0; run < RUNS; run++) {
  const c = await caxtonRun();
  caxton.push(c);
  raw.push(await echoRun(() => rawTlsEcho(c.wire_bytes)));
  const ports: [number, number] = [await freePort(), await freePort()];
  moleculer.push(await echoRun(() => moleculerEcho(c.wire_message, ports)));
}

const med = <T>(runs: T[], pick: (r: T) => number, digits = 0): number => round(median(runs.map(pick)), digits);
const echoSummary = (runs: EchoFigures[]) => ({
  requests_per_s: med(runs, (r) => r.per_second),
  requests_per_cpu_s: med(runs, (r) => r.per_cpu_second),
  p50_us: med(runs, (r) => r.p50_us, 1),
  p99_us: med(runs, (r) => r.p99_us, 1),
  runs_requests_per_s: runs.map((r) => Math.round(r.per_second)),
  runs_p50_us: runs.map((r) => round(r.p50_us, 1)),
});
const caxtonRps = med(caxton, (r) => r.round_trips_per_s);
const moleculerRps = med(moleculer, (r) => r.per_second);
line({
  bench: 'remote-routing',
  case: 'request-reply',
  runs: RUNS,
  in_flight: IN_FLIGHT,
  duration_ms: DURATION_MS,
  latency_samples: LATENCY_SAMPLES,
  message_wire_bytes: caxton[0].wire_bytes.length,
  caxton: {
    requests_per_s: caxtonRps,
    messages_per_s: 2 * caxtonRps,
    requests_per_cpu_s: med(caxton, (r) => r.round_trips_per_cpu_s),
    event_loop_utilization: med(caxton, (r) => r.event_loop_utilization, 2),
    p50_us: med(caxton, (r) => r.p50_us, 1),
    p99_us: med(caxton, (r) => r.p99_us, 1),
    split_p50_us: {
      link_a_to_b: med(caxton, (r) => r.split_us.link_a_to_b, 1),
      pong_turn_on_b: med(caxton, (r) => r.split_us.pong_turn_on_b, 1),
      link_b_to_a: med(caxton, (r) => r.split_us.link_b_to_a, 1),
      ping_turn_on_a: med(caxton, (r) => r.split_us.ping_turn_on_a, 1),
    },
    runs_requests_per_s: caxton.map((r) => Math.round(r.round_trips_per_s)),
    runs_p50_us: caxton.map((r) => round(r.p50_us, 1)),
  },
  raw_tls: echoSummary(raw),
  moleculer: echoSummary(moleculer),
  ratio_caxton_to_moleculer: round(caxtonRps / moleculerRps),
  ratio_caxton_to_raw_tls: round(caxtonRps / med(raw, (r) => r.per_second)),
  // Per CPU second of this process: the same comparison, less moved by other load on the shared machine.
  ratio_caxton_to_moleculer_cpu: round(med(caxton, (r) => r.round_trips_per_cpu_s) / med(moleculer, (r) => r.per_cpu_second)),
  what: 'caxton: agent ping on A -> agent pong on B -> ping, a round trip = 2 routed messages over the routing link; raw_tls: one frame echoed unchanged (no decode); moleculer: a.call(echo.echo) answered by broker b over TCP',
  goal: 'requests_per_s >= 2x moleculer; P50 <= 250 us at one in flight (seed: P50 5 ms, P99 50 ms)',
});
line({
  bench: 'remote-routing',
  case: 'one-way',
  runs: RUNS,
  messages: ONE_WAY_MESSAGES,
  msgs_per_s: med(caxton, (r) => r.one_way_msgs_per_s),
  msgs_per_cpu_s: med(caxton, (r) => r.one_way_msgs_per_cpu_s),
  runs_msgs_per_s: caxton.map((r) => Math.round(r.one_way_msgs_per_s)),
  what: `router.route on A (sender client:bench) -> link -> B -> sink agent on B (both nodes' work in this one process), counted when the sink was invoked, at most ${ONE_WAY_WINDOW} outstanding`,
  goal: '>= 150000 msg/s on one link',
});
line({
  bench: 'remote-routing',
  case: 'module-fetch',
  runs: RUNS,
  fetches_per_run: FETCHES,
  module_bytes: big.length,
  ms: med(caxton, (r) => r.fetch_1mib_ms, 2),
  runs_ms: caxton.map((r) => round(r.fetch_1mib_ms, 2)),
  what: "A: routing.request(B, 'module.get', { sha256 }) of a 1 MiB agent module in B's store",
});
line({ bench: 'remote-routing', case: 'idle-link-memory', ...idleLinks, what: 'RoutingLinks only: process.memoryUsage() delta (after a full GC) of opening N idle links from N peers to a hub, both ends of each link in this process, per link (both ends together; one end is about half)' });
