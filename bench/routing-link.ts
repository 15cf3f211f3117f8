// Issue 9's routing-link figures, measured with both peers in this process (the machine has 2 CPUs), their
// runs alternating, medians of BENCH_RUNS runs:
//   - one-way throughput on one link (goal ≥ 150k msg/s), next to a raw TLS connection with the same framing
//     (msgpack string per message, batched per setImmediate, no queue, no acks, no checks);
//   - request/reply P50/P99 at 1 in flight, and requests/s at 64 in flight;
//   - compression of a batch of 1 KiB JSON messages: deflate cost per frame and bytes saved, and one-way
//     throughput with routing.compress on for those messages;
//   - memory per idle link.
// Run: npx tsx bench/routing-link.ts   (prints JSON lines)
import { connect, createServer as createTlsServer } from 'node:tls';
import { deflateRawSync } from 'node:zlib';
import { createCa } from '../src/cluster/pki/certificates.ts';
import { encodeFrame, FrameReader, FrameType } from '../src/cluster/routing/frames.ts';
import { decodeAclMessages, encodeAclMessage } from '../src/cluster/routing/message-codec.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import { nodeTls, startNodes, stopNodes } from '../test/cluster/routing/link-fixture.ts';
import { latencyMicros, median, round } from './lib/stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200_000);
const LATENCY_SAMPLES = 5000;
const IN_FLIGHT = 64;

const small = (i: number): AclMessage => ({
  performative: 'inform',
  sender: 'ping',
  receiver: 'pong',
  content: { seq: i, text: 'hello from the other node' },
  message_id: `m-${i}`,
  conversation_id: 'c-1',
});
// ~1 KiB of JSON like an order or a search result, different in every message (ids, prices, a base64 nonce).
const WORDS = ['widget', 'gadget', 'sprocket', 'bolt', 'nut', 'flange', 'gear', 'spring', 'valve', 'pump'];
const oneKib = (i: number): AclMessage => ({
  ...small(i),
  content: {
    order: `order-${i}`,
    nonce: Buffer.from(String(i * 2654435761)).toString('base64'),
    items: Array.from({ length: 9 }, (_, k) => ({ sku: `sku-${(i * 7 + k) % 10_000}`, name: WORDS[(i + k) % WORDS.length], qty: (i + k) % 13, price: ((i * 31 + k * 17) % 10_000) / 100 })),
  },
});

const ca = await createCa();

async function linkThroughput(make: (i: number) => AclMessage, compress: boolean): Promise<number> {
  const { nodes } = await startNodes(['node-a', 'node-b'], { settings: compress ? { compressAboveBytes: 1024 } : {} }, ca);
  const a = nodes.get('node-a')!;
  const b = nodes.get('node-b')!;
  let got = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  b.links.onMessage(() => {
    if (++got === MESSAGES) resolveDone();
  });
  // Warm the link (dial, TLS, hello) before timing.
  a.links.sendMessage('node-b', make(-1), 'receiver');
  while (got < 1) await new Promise((r) => setTimeout(r, 1));
  got = 0;
  const messages = Array.from({ length: MESSAGES }, (_, i) => make(i));
  const started = process.hrtime.bigint();
  let i = 0;
  const pump = (): void => {
    while (i < MESSAGES) {
      const r = a.links.sendMessage('node-b', messages[i], 'receiver');
      if (r === 'full') break;
      i++;
    }
    if (i < MESSAGES) setImmediate(pump);
  };
  pump();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await stopNodes(nodes);
  return MESSAGES / seconds;
}

/** The same framing over one raw TLS connection: the floor the link's queue, acks and checks add to. */
async function rawTlsThroughput(make: (i: number) => AclMessage): Promise<number> {
  const s = await nodeTls(ca, 'raw-server');
  const c = await nodeTls(ca, 'raw-client');
  let got = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const server = createTlsServer({ key: s.keyPem, cert: s.certPem, ca: s.caPem, requestCert: true, minVersion: 'TLSv1.3' }, (socket) => {
    const reader = new FrameReader(1 << 24);
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) got += decodeAclMessages(f.payload).length;
      if (got >= MESSAGES) resolveDone();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const socket = connect({ host: '127.0.0.1', port, key: c.keyPem, cert: c.certPem, ca: c.caPem, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('secureConnect', r));
  const messages = Array.from({ length: MESSAGES }, (_, i) => make(i));
  const started = process.hrtime.bigint();
  let i = 0;
  const pump = (): void => {
    const parts: Buffer[] = [];
    let bytes = 0;
    // As much as the link would hold at once (its queue bound), then one write per turn.
    for (let n = 0; n < 10_000 && i < MESSAGES; n++, i++) {
      const p = encodeAclMessage(messages[i], 'receiver');
      parts.push(p);
      bytes += p.length;
    }
    const frames: Buffer[] = [];
    for (let k = 0; k < parts.length; k += 1000) {
      const slice = parts.slice(k, k + 1000);
      frames.push(encodeFrame(FrameType.messages, slice, slice.reduce((n, p) => n + p.length, 0)));
    }
    const ok = socket.write(Buffer.concat(frames));
    if (i < MESSAGES) {
      if (ok) setImmediate(pump);
      else socket.once('drain', pump);
    }
  };
  pump();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.destroy();
  await new Promise((r) => server.close(r));
  return MESSAGES / seconds;
}

async function requestFigures(): Promise<{ p50_us: number; p99_us: number; per_second_64: number }> {
  const { nodes } = await startNodes(['node-a', 'node-b'], {}, ca);
  const a = nodes.get('node-a')!;
  nodes.get('node-b')!.links.onRequest('echo', (_from, body) => body);
  await a.links.request('node-b', 'echo', 0, 5000);
  const samples = new Float64Array(LATENCY_SAMPLES);
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = process.hrtime.bigint();
    await a.links.request('node-b', 'echo', { i }, 5000);
    samples[i] = Number(process.hrtime.bigint() - t);
  }
  const total = 50_000;
  let sent = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < total) {
        sent++;
        await a.links.request('node-b', 'echo', { sent }, 5000);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await stopNodes(nodes);
  return { ...latencyMicros(samples), per_second_64: total / seconds };
}

function compressionFigures(): { frame_messages: number; raw_bytes: number; deflated_bytes: number; saved_pct: number; deflate_us_per_frame: number; deflate_us_per_message: number } {
  const parts = Array.from({ length: 200 }, (_, i) => encodeAclMessage(oneKib(i), 'receiver'));
  const raw = Buffer.concat(parts);
  const reps = 200;
  const t = process.hrtime.bigint();
  let deflated = 0;
  for (let r = 0; r < reps; r++) deflated = deflateRawSync(raw, { level: 1 }).length;
  const us = Number(process.hrtime.bigint() - t) / 1000 / reps;
  return {
    frame_messages: parts.length,
    raw_bytes: raw.length,
    deflated_bytes: deflated,
    saved_pct: round((1 - deflated / raw.length) * 100, 1),
    deflate_us_per_frame: round(us, 1),
    deflate_us_per_message: round(us / parts.length, 2),
  };
}

async function idleLinkMemory(): Promise<{ links: number; rss_kib_per_link: number; heap_kib_per_link: number }> {
  const peers = 40;
  const ids = ['hub', ...Array.from({ length: peers }, (_, i) => `peer-${i}`)];
  global.gc?.();
  const before = process.memoryUsage();
  const { nodes } = await startNodes(ids, {}, ca);
  const hub = nodes.get('hub')!;
  let got = 0;
  hub.links.onMessage(() => got++);
  for (let i = 0; i < peers; i++) nodes.get(`peer-${i}`)!.links.sendMessage('hub', small(i), 'receiver');
  while (got < peers) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 200));
  global.gc?.();
  const after = process.memoryUsage();
  await stopNodes(nodes);
  // Both ends of each link live here, plus one RoutingLinks and TCP server per peer: an upper bound per end.
  return {
    links: peers,
    rss_kib_per_link: round((after.rss - before.rss) / 1024 / (2 * peers), 1),
    heap_kib_per_link: round((after.heapUsed - before.heapUsed) / 1024 / (2 * peers), 1),
  };
}

const line = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const link: number[] = [];
const raw: number[] = [];
const linkKib: number[] = [];
const linkKibCompressed: number[] = [];
for (let r = 0; r < RUNS; r++) {
  link.push(await linkThroughput(small, false));
  raw.push(await rawTlsThroughput(small));
  linkKib.push(await linkThroughput(oneKib, false));
  linkKibCompressed.push(await linkThroughput(oneKib, true));
}
line({ figure: 'one_way_small', unit: 'msg/s', link: Math.round(median(link)), raw_tls_same_framing: Math.round(median(raw)), runs: RUNS, messages: MESSAGES });
line({ figure: 'one_way_1kib_json', unit: 'msg/s', compress_off: Math.round(median(linkKib)), compress_on: Math.round(median(linkKibCompressed)), runs: RUNS });
const requests = [];
for (let r = 0; r < RUNS; r++) requests.push(await requestFigures());
line({
  figure: 'request_reply',
  p50_us: round(median(requests.map((q) => q.p50_us)), 1),
  p99_us: round(median(requests.map((q) => q.p99_us)), 1),
  per_second_64_in_flight: Math.round(median(requests.map((q) => q.per_second_64))),
  runs: RUNS,
});
line({ figure: 'compression_1kib_json', ...compressionFigures() });
line({ figure: 'idle_link_memory', ...(await idleLinkMemory()) });
