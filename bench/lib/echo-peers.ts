// The two references issue 9's remote request/reply figure is set next to, both with both peers in this
// process on loopback:
//   - a raw TLS 1.3 echo over one connection (certificates from the repo's own PKI helpers, mutual auth as
//     the routing links do), with the routing links' framing: one MESSAGES frame holding one encoded message
//     per request, echoed back unchanged. No decode, no ack, no queue: the floor a link hop adds to.
//   - Moleculer 0.15 with its TCP transporter (no UDP discovery), two brokers, `echo.echo` returning its params.
import { createRequire } from 'node:module';
import { connect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createCa, issueNodeCertificate } from '../../src/cluster/pki/certificates.ts';
import { encodeFrame, FrameReader, FrameType } from '../../src/cluster/routing/frames.ts';
import { latencyMicros } from './stats.ts';

export interface EchoFigures {
  /** Requests answered per wall second with `inFlight` outstanding. */
  per_second: number;
  /** The same per CPU second of this process (less moved by other load on the machine). */
  per_cpu_second: number;
  p50_us: number;
  p99_us: number;
}

export interface EchoPeer {
  /** Sends one request and resolves with nothing when its answer is back. */
  call(): Promise<void>;
  close(): Promise<void>;
}

/** Requests/s with `inFlight` callers looping for `durationMs` (after `warmupMs`), then P50/P99 of `samples` sequential calls. */
export async function measureEcho(peer: EchoPeer, inFlight: number, durationMs: number, warmupMs: number, samples: number): Promise<EchoFigures> {
  let counting = false;
  let stop = false;
  let done = 0;
  const loops = Array.from({ length: inFlight }, async () => {
    while (!stop) {
      await peer.call();
      if (counting) done++;
    }
  });
  await new Promise((r) => setTimeout(r, warmupMs));
  counting = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const answered = done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  await Promise.all(loops);
  for (let i = 0; i < Math.min(500, samples); i++) await peer.call();
  const ns = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = process.hrtime.bigint();
    await peer.call();
    ns[i] = Number(process.hrtime.bigint() - t);
  }
  return { per_second: answered / seconds, per_cpu_second: answered / ((cpu.user + cpu.system) / 1e6), ...latencyMicros(ns) };
}

let tlsMaterial: Promise<{ ca: string; server: { key: string; cert: string }; client: { key: string; cert: string } }> | undefined;
function material() {
  tlsMaterial ??= (async () => {
    const ca = await createCa();
    const server = await issueNodeCertificate(ca, 'raw-server');
    const client = await issueNodeCertificate(ca, 'raw-client');
    return { ca: ca.certPem, server: { key: server.keyPem, cert: server.certPem }, client: { key: client.keyPem, cert: client.certPem } };
  })();
  return tlsMaterial;
}

/**
 * A raw TLS echo: `message` (an encoded routed message, as a link carries it) goes in one MESSAGES frame;
 * the server writes every frame it reads straight back (one write per read); the client matches answers
 * to callers in order.
 */
export async function rawTlsEcho(message: Buffer): Promise<EchoPeer> {
  const m = await material();
  const frame = encodeFrame(FrameType.messages, [message], message.length);
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ key: m.server.key, cert: m.server.cert, ca: m.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const reader = new FrameReader(1 << 24);
    socket.on('data', (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if (frames.length === 0) return;
      const out = frames.map((f) => encodeFrame(f.type, [f.payload], f.payload.length));
      socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const socket = connect({
    host: '127.0.0.1',
    port,
    key: m.client.key,
    cert: m.client.cert,
    ca: m.ca,
    checkServerIdentity: () => undefined,
    minVersion: 'TLSv1.3',
  });
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('secureConnect', r));
  const waiting: Array<() => void> = [];
  let head = 0;
  const reader = new FrameReader(1 << 24);
  socket.on('data', (chunk: Buffer) => {
    for (const _ of reader.push(chunk)) {
      const resolve = waiting[head];
      waiting[head++] = undefined as unknown as () => void;
      resolve();
    }
    if (head > 4096 && head === waiting.length) {
      waiting.length = 0;
      head = 0;
    }
  });
  // Writes of one turn go out together, as a link's flush does.
  let batch: Buffer[] = [];
  const flush = (): void => {
    const data = batch.length === 1 ? batch[0] : Buffer.concat(batch);
    batch = [];
    socket.write(data);
  };
  return {
    call: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (batch.push(frame) === 1) queueMicrotask(flush);
      }),
    close: async () => {
      socket.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface MoleculerBroker {
  start(): Promise<void>;
  stop(): Promise<void>;
  createService(schema: unknown): unknown;
  waitForServices(names: string[], timeout?: number): Promise<unknown>;
  call(action: string, params: unknown): Promise<unknown>;
}

/** Two Moleculer brokers over its TCP transporter; `call` is a.call('echo.echo', params) answered by b. */
export async function moleculerEcho(params: unknown, ports: [number, number]): Promise<EchoPeer> {
  const { ServiceBroker } = createRequire(import.meta.url)('moleculer') as { ServiceBroker: new (options: unknown) => MoleculerBroker };
  const [pa, pb] = ports;
  const transporter = (port: number, peer: string) => ({ type: 'TCP', options: { udpDiscovery: false, port, urls: [peer] } });
  const a = new ServiceBroker({ nodeID: 'a', logger: false, transporter: transporter(pa, `127.0.0.1:${pb}/b`) });
  const b = new ServiceBroker({ nodeID: 'b', logger: false, transporter: transporter(pb, `127.0.0.1:${pa}/a`) });
  b.createService({ name: 'echo', actions: { echo: (ctx: { params: unknown }) => ctx.params } });
  await Promise.all([a.start(), b.start()]);
  await a.waitForServices(['echo'], 15_000);
  return {
    call: async () => {
      await a.call('echo.echo', params);
    },
    close: async () => {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}
