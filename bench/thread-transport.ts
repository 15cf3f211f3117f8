// Issue 14: how messages should cross between the main thread and an agent worker. Two transports, each with a
// worker that echoes every message back (so both directions are measured):
// - `port`: batched MessagePort posts, as the pool does today: an array of message objects per post
//   (structured clone), one post per event-loop turn.
// - `ring`: a SharedArrayBuffer ring per direction (single producer, single consumer): messages packed with
//   msgpackr into the ring, the reader woken by Atomics.notify / Atomics.waitAsync once per batch.
// Figures, JSON lines, medians of BENCH_RUNS runs:
// - `hop`: one message in flight, main → worker → main: round trip P50/P99 (a hop is half of it).
// - `throughput`: WINDOW messages in flight, echoed: messages per second each way, and per CPU second of
//   the process (all threads), less moved by other load on a shared machine.
// Run: npx tsx bench/thread-transport.ts   (BENCH_RUNS, BENCH_DURATION_MS, BENCH_WINDOW)
import { loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { pack, unpack } from 'msgpackr';
import { median, round } from './lib/stats.ts';

type Mode = 'port' | 'ring';

/** A representative ACL message (what agents send: ~230 bytes as JSON). */
function sample(i: number): Record<string, unknown> {
  return {
    performative: 'inform',
    sender: 'a017',
    receiver: 'b017',
    content: { n: i, text: 'pong' },
    message_id: `m-${i}-7f3c1a2e-9b1d-4c55-8e0f-2a6b9d1c3e4f`,
    conversation_id: 'c-5d2e8f10-3a4b-4c6d-9e8f-0a1b2c3d4e5f',
    protocol: undefined,
  };
}

// ---- the ring: [head, tail, signal] Int32 header, then bytes; a record is [u32 length][bytes] ----

const HEADER = 16;
const WRAP = 0xffffffff;

class Ring {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly capacity: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 4);
    this.bytes = new Uint8Array(buffer, HEADER);
    this.view = new DataView(buffer, HEADER);
    this.capacity = this.bytes.length;
  }

  static create(bytes: number): Ring {
    return new Ring(new SharedArrayBuffer(HEADER + bytes));
  }

  /** False when the ring is full (the caller keeps the message: backpressure, never a drop). */
  write(payload: Uint8Array): boolean {
    const need = 4 + payload.length;
    const head = Atomics.load(this.header, 0);
    let tail = Atomics.load(this.header, 1);
    if (tail >= head) {
      if (this.capacity - tail < need + 4) {
        // Not enough room at the end: a wrap marker, then from the start (which must leave a gap to head).
        if (head <= need) return false;
        if (this.capacity - tail >= 4) this.view.setUint32(tail, WRAP);
        tail = 0;
      }
    } else if (head - tail <= need) {
      return false;
    }
    this.view.setUint32(tail, payload.length);
    this.bytes.set(payload, tail + 4);
    Atomics.store(this.header, 1, tail + need);
    return true;
  }

  /** Signals the reader once per batch written. */
  signal(): void {
    Atomics.add(this.header, 2, 1);
    Atomics.notify(this.header, 2);
  }

  readAll(each: (payload: Uint8Array) => void): number {
    let head = Atomics.load(this.header, 0);
    const tail = Atomics.load(this.header, 1);
    let n = 0;
    while (head !== tail) {
      if (this.capacity - head < 4 || this.view.getUint32(head) === WRAP) {
        head = 0;
        continue;
      }
      const length = this.view.getUint32(head);
      // A copy out of shared memory: decoders take slow paths (or refuse) on views of a SharedArrayBuffer.
      each(this.bytes.slice(head + 4, head + 4 + length));
      head += 4 + length;
      n++;
    }
    Atomics.store(this.header, 0, head);
    return n;
  }

  /** Resolves when the writer has signalled since `seen` (the signal count the caller last saw). */
  async waitFor(seen: number): Promise<number> {
    // Atomics.waitAsync is in Node 20 (V8 ≥ 8.7); TypeScript's lib here predates it.
    const result = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string } }).waitAsync(this.header, 2, seen);
    if (result.async) await result.value;
    return Atomics.load(this.header, 2);
  }

  get signals(): number {
    return Atomics.load(this.header, 2);
  }
}

// ---- the worker: echoes whatever arrives, over the transport it was started with ----

if (!isMainThread) {
  const { mode, toWorker, toMain } = workerData as { mode: Mode; toWorker?: SharedArrayBuffer; toMain?: SharedArrayBuffer };
  if (mode === 'port') {
    parentPort!.on('message', (batch: unknown[]) => parentPort!.postMessage(batch));
    parentPort!.postMessage('ready');
  } else {
    const inbound = new Ring(toWorker!);
    const outbound = new Ring(toMain!);
    let backlog: Uint8Array[] = [];
    let seen = 0;
    const loop = async (): Promise<void> => {
      for (;;) {
        seen = await inbound.waitFor(seen);
        // Echo after decoding, as a real receiver would (the decode is part of the cost).
        inbound.readAll((payload) => backlog.push(pack(unpack(payload))));
        const left: Uint8Array[] = [];
        for (const payload of backlog) if (left.length > 0 || !outbound.write(payload)) left.push(payload);
        backlog = left;
        outbound.signal();
        if (backlog.length > 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    void loop();
    // A pending Atomics.waitAsync does not keep a thread alive; a listening port does.
    parentPort!.on('message', () => {});
    parentPort!.postMessage('ready');
  }
} else {
  await main();
}

interface Transport {
  send(messages: unknown[]): void;
  onReceive(handler: (count: number) => void): void;
  close(): Promise<void>;
}

async function open(mode: Mode): Promise<Transport> {
  const url = new URL('./lib/ts-worker.mjs', import.meta.url);
  const entry = import.meta.url;
  if (mode === 'port') {
    const worker = new Worker(url, { workerData: { entry, mode } });
    // Loading the module under tsx takes a while: nothing is timed before the worker says it listens.
    await new Promise((resolve) => worker.once('message', resolve));
    return {
      send: (messages) => worker.postMessage(messages),
      onReceive: (handler) => worker.on('message', (batch: unknown[]) => {
        // The receiver reads every message, as the pool's would.
        let n = 0;
        for (const m of batch) if ((m as { receiver?: string }).receiver !== undefined) n++;
        handler(n);
      }),
      close: () => worker.terminate().then(() => undefined),
    };
  }
  const toWorker = Ring.create(4 << 20);
  const toMain = Ring.create(4 << 20);
  const worker = new Worker(url, { workerData: { entry, mode, toWorker: toWorker.buffer, toMain: toMain.buffer } });
  await new Promise((resolve) => worker.once('message', resolve));
  let handler: (count: number) => void = () => {};
  let closed = false;
  let seen = 0;
  void (async () => {
    while (!closed) {
      seen = await toMain.waitFor(seen);
      let n = 0;
      toMain.readAll((payload) => {
        if ((unpack(payload) as { receiver?: string }).receiver !== undefined) n++;
      });
      if (n > 0) handler(n);
    }
  })();
  return {
    send(messages) {
      for (const m of messages) if (!toWorker.write(pack(m))) throw new Error('ring full: the window is larger than the ring');
      toWorker.signal();
    },
    onReceive: (h) => (handler = h),
    async close() {
      closed = true;
      toMain.signal();
      await worker.terminate();
    },
  };
}

async function hop(mode: Mode, durationMs: number): Promise<{ p50_us: number; p99_us: number; round_trips: number }> {
  const transport = await open(mode);
  const samples: number[] = [];
  let sentAt = 0n;
  let i = 0;
  const stopAt = performance.now() + durationMs;
  await new Promise<void>((resolve) => {
    transport.onReceive(() => {
      if (i > 200) samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
      if (performance.now() >= stopAt) return resolve();
      sentAt = process.hrtime.bigint();
      transport.send([sample(i++)]);
    });
    sentAt = process.hrtime.bigint();
    transport.send([sample(i++)]);
  });
  await transport.close();
  samples.sort((a, b) => a - b);
  return { p50_us: round(samples[Math.floor(samples.length * 0.5)]), p99_us: round(samples[Math.floor(samples.length * 0.99)]), round_trips: samples.length };
}

async function throughput(mode: Mode, durationMs: number, window: number, batch: number): Promise<{ msgs_per_s: number; msgs_per_cpu_s: number }> {
  const transport = await open(mode);
  let inFlight = 0;
  let received = 0;
  let i = 0;
  let stop = false;
  const fill = (): void => {
    // One send per batch, as the pool posts once per turn.
    while (!stop && inFlight + batch <= window) {
      const messages = Array.from({ length: batch }, () => sample(i++));
      inFlight += batch;
      transport.send(messages);
    }
  };
  transport.onReceive((n) => {
    inFlight -= n;
    received += n;
    fill();
  });
  fill();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const start = received;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const count = received - start;
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  await transport.close();
  return { msgs_per_s: Math.round((count * 1000) / elapsed), msgs_per_cpu_s: Math.round(count / ((cpu.user + cpu.system) / 1e6)) };
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 1500);
  const window = Number(process.env.BENCH_WINDOW ?? 1024);
  const batch = 64;
  const hops: Record<Mode, { p50: number[]; p99: number[] }> = { port: { p50: [], p99: [] }, ring: { p50: [], p99: [] } };
  const rates: Record<Mode, { wall: number[]; cpu: number[] }> = { port: { wall: [], cpu: [] }, ring: { wall: [], cpu: [] } };
  for (let run = 0; run < runs; run++) {
    // Alternating, so load from elsewhere falls on both alike.
    for (const mode of ['port', 'ring'] as const) {
      const h = await hop(mode, durationMs);
      hops[mode].p50.push(h.p50_us);
      hops[mode].p99.push(h.p99_us);
      const t = await throughput(mode, durationMs, window, batch);
      rates[mode].wall.push(t.msgs_per_s);
      rates[mode].cpu.push(t.msgs_per_cpu_s);
    }
  }
  const load = loadavg().map((l) => round(l));
  console.log(
    JSON.stringify({
      bench: 'thread-transport',
      figure: 'hop',
      runs,
      port_round_trip_p50_us: median(hops.port.p50),
      port_round_trip_p99_us: median(hops.port.p99),
      ring_round_trip_p50_us: median(hops.ring.p50),
      ring_round_trip_p99_us: median(hops.ring.p99),
      load,
    }),
  );
  const port = median(rates.port.wall);
  const ring = median(rates.ring.wall);
  console.log(
    JSON.stringify({
      bench: 'thread-transport',
      figure: 'throughput',
      runs,
      window,
      batch,
      port_msgs_per_s: port,
      ring_msgs_per_s: ring,
      ring_vs_port: round(ring / port),
      port_msgs_per_cpu_s: median(rates.port.cpu),
      ring_msgs_per_cpu_s: median(rates.ring.cpu),
      ring_vs_port_per_cpu: round(median(rates.ring.cpu) / median(rates.port.cpu)),
      port_runs: rates.port.wall,
      ring_runs: rates.ring.wall,
      load,
    }),
  );
}
