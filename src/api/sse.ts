// Server-sent events: one stream per client, a heartbeat so proxies keep it open, and a hub that bounds how
// many are open (api.max_event_streams: each may buffer up to sseMaxBufferedBytes), and how many of them one
// principal holds (api.max_event_streams_per_principal: otherwise one viewer key could hold every stream, and
// every other caller's events, log follows and streamed sends were refused), and ends every stream when the
// server closes (otherwise a lingering client would hold the shutdown).
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Principal } from '../node/services.ts';
import { holderKeyOf, PrincipalSlots } from './principal-slots.ts';
import { CaxtonError } from '../errors.ts';
import { releaseWhenDone } from './client-gone.ts';
import { sendUnavailable } from './error-reply.ts';

export class SseStream {
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    heartbeatMs: number,
    private readonly maxBufferedBytes: number,
  ) {
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), heartbeatMs);
    this.heartbeat.unref();
    // Not the response's own 'close': a response pipelined behind another never emits it when the socket dies.
    releaseWhenDone(res, () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one event; `id` lets a client resume with Last-Event-ID. */
  send(event: string, data: unknown, id?: number | string): void {
    this.sendJson(event, JSON.stringify(data), id);
  }

  /** Sends one event whose data is this JSON text: it must hold no line break (a `data:` line ends at one). */
  sendJson(event: string, json: string, id?: number | string): void {
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    this.write(`${idLine}event: ${event}\ndata: ${json}\n\n`);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Ends a finite stream (a reply stream) after what was written; close() drops the connection instead. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.res.end();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    // An event stream is never reused for another request: drop the connection so a half-closed client
    // socket does not hold the server's close() until its keep-alive timeout.
    if (!this.res.writableEnded) this.res.end();
    this.res.destroy();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private write(chunk: string): void {
    if (this.closed) return;
    // A client this far behind would make us buffer without bound: drop it, it can reconnect.
    if (this.res.writableLength > this.maxBufferedBytes) {
      this.close();
      return;
    }
    this.res.write(chunk);
  }
}

/** The key a principal's streams are counted under (principal-slots.ts). */
function holderOf(reply: FastifyReply): string {
  const principal: Principal | null = reply.request.principal;
  return principal === null ? '' : holderKeyOf(principal);
}

export class SseHub {
  private readonly streams = new Set<SseStream>();
  /** Streams open at once (api.max_event_streams), and of them held by one principal (holderOf). */
  private readonly slots: PrincipalSlots;

  constructor(
    private readonly heartbeatMs: number,
    private readonly maxBufferedBytes: number,
    /** Streams open at once (api.max_event_streams). */
    maxStreams: number,
    /** Of them, held by one principal (api.max_event_streams_per_principal). */
    maxStreamsPerPrincipal: number = maxStreams,
  ) {
    this.slots = new PrincipalSlots(maxStreams, maxStreamsPerPrincipal);
  }

  /** When maxStreams are open, or the caller holds its share, answers 503 on `reply` (sendUnavailable) and returns true. */
  refuseWhenFull(reply: FastifyReply): boolean {
    const refusal = this.#refusal(reply);
    if (refusal === undefined) return false;
    void sendUnavailable(reply, refusal);
    return true;
  }

  /** Takes the response over from Fastify and starts an event stream on it; see refuseWhenFull. */
  open(reply: FastifyReply): SseStream {
    // Callers ask refuseWhenFull first; a thrown refusal (logged) is only for one that did not.
    const refusal = this.#refusal(reply);
    if (refusal !== undefined) throw new CaxtonError('UNAVAILABLE', refusal);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // HEAD (Fastify answers it with the GET handler): a body is never sent, so writes would not even flush the
    // headers and the stream would hang unanswered, holding a slot, until the client gave up. The headers are
    // the whole answer; the stream returned is already closed, so its subscriber is released at once.
    if (reply.request.method === 'HEAD') {
      const stream = new SseStream(res, this.heartbeatMs, this.maxBufferedBytes);
      stream.end();
      return stream;
    }
    // Flushes the headers so the client knows the stream is open before the first event.
    res.write(': connected\n\n');
    const stream = new SseStream(res, this.heartbeatMs, this.maxBufferedBytes);
    this.streams.add(stream);
    const holder = holderOf(reply);
    this.slots.take(holder);
    stream.onClose(() => {
      this.streams.delete(stream);
      this.slots.give(holder);
    });
    return stream;
  }

  /** Why a stream for `reply` would be refused, or undefined when there is room. */
  #refusal(reply: FastifyReply): string | undefined {
    const refusal = this.slots.refusal(holderOf(reply));
    if (refusal === 'node') return `${this.slots.max} event streams open on this node (api.max_event_streams); retry shortly`;
    if (refusal === 'principal') {
      return `you hold ${this.slots.maxPerPrincipal} event streams on this node (api.max_event_streams_per_principal); close one first`;
    }
    return undefined;
  }

  get openCount(): number {
    return this.streams.size;
  }

  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
