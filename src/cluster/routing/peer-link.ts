// The state of the link to one peer: the queue of what waits to be written, what was written but not yet
// acknowledged (reported undelivered if the connection fails), the connection itself, requests in flight,
// and the dial backoff. RoutingLinks owns one per peer and decides which connection a link uses.
import type { TLSSocket } from 'node:tls';
import type { AclMessage } from '../../messaging/message.ts';
import { parseMessage } from '../../messaging/message.ts';
import {
  decodeValue,
  encodeFrame,
  encodeValue,
  encodeValueFrame,
  FRAME_HEADER_BYTES,
  FrameError,
  FrameReader,
  FrameType,
  type Frame,
} from './frames.ts';
import { decodeAclMessages, encodeAclMessage, encodeOriginEnvelope, ORIGIN_FEATURE, type RoutedMessage } from './message-codec.ts';
import type { RoutingLinkSettings } from './routing-options.ts';
import { describeError } from '../../errors.ts';
import { RingQueue } from '../../agents/ring-queue.ts';

export type SendResult = 'queued' | 'full' | 'unreachable';

/** Why messages were not delivered: a code the node puts in the `failure` it answers their senders. */
export type UndeliveredReason = 'LINK_LOST' | 'PEER_UNREACHABLE' | 'LINK_CLOSED';

/**
 * Room in the queue to the peer for the answer to one of its requests. A handler whose answer is large (a
 * module, up to agents.max_module_bytes) takes it before it builds the answer, so a request whose answer could
 * not be queued is refused for the cost of a lookup: a 60-byte module.get used to make this node read and copy
 * 16 MiB only for the answer to be replaced by BUSY once it was built.
 */
export interface AnswerRoom {
  /**
   * Holds room for an answer whose value takes `bytes` in the queue to the peer, from now until the answer
   * is queued (it then counts as itself). Undefined when taken; otherwise why not, and nothing is held.
   */
  reserve(bytes: number): string | undefined;
}

export interface PeerLinkHost {
  settings: RoutingLinkSettings;
  random: () => number;
  /** `origin`: where the API client that sent it waits, when the peer named another node (message-codec.ts). */
  deliver(from: string, message: AclMessage, receiver: string, origin?: string): void;
  serve(from: string, method: string, body: unknown, room: AnswerRoom): Promise<unknown>;
  undelivered(peer: string, messages: RoutedMessage[], reason: UndeliveredReason): void;
  /** Starts a dial to the peer; the link is told through adopt() or dialFailed(). */
  dial(link: PeerLink): void;
  /** Logged at most once per peer and minute. */
  badPeer(peer: string, what: string): void;
  /** A sampled message was acknowledged `ms` after it was written: the remote hop's round trip. */
  ackLatency?(peer: string, ms: number): void;
}

interface Item {
  type: typeof FrameType.messages | typeof FrameType.request | typeof FrameType.response;
  bytes: Buffer;
  message?: RoutedMessage;
  /** The message's origin envelope, written before it when the peer reads origins. */
  envelope?: Buffer;
  /** An answer queued past queueMaxBytes (refusalsHeld). */
  refusal?: true;
}

interface PendingRequest {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RoutingLinkError extends Error {
  constructor(
    readonly code: UndeliveredReason | 'QUEUE_FULL' | 'TIMEOUT' | 'REMOTE_ERROR' | 'BUSY',
    message: string,
  ) {
    super(message);
  }
}

export class PeerLink {
  socket: TLSSocket | undefined;
  /** True once hello was exchanged on `socket`; nothing but hello flows before. */
  ready = false;
  /** We dialled `socket` (false: the peer did). */
  outbound = false;
  /** The peer process's instance id from its hello on `socket`. */
  peerInstance = '';
  /** The peer's hello listed ORIGIN_FEATURE: messages to it may carry their client's origin node. */
  peerReadsOrigins = false;
  private readonly pending = new RingQueue<Item>();
  private readonly unacked = new RingQueue<RoutedMessage>();
  private readonly unackedBytes = new RingQueue<number>();
  private heldMessages = 0;
  private heldBytes = 0;
  /** Messages and their encoded bytes queued to and received from this peer, over the link's life (metrics). */
  readonly traffic = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };
  /**
   * The ack count that covers the last message of a written batch, and when it was written: one probe at a
   * time, so at most one sample per round trip and nothing per message.
   */
  private probeCount = -1;
  private probeAt = 0;
  /** Messages written / acknowledged / received on the current connection. */
  private written = 0;
  private acked = 0;
  private received = 0;
  private ackScheduled = false;
  private flushScheduled = false;
  private waitingDrain = false;
  private reader: FrameReader | undefined;
  private backoffUntil = 0;
  private failedDials = 0;
  /** Dials in a row the peer refused for not knowing us yet (notYetKnown). */
  private notKnownRetries = 0;
  private nextRequestId = 1;
  private readonly requests = new Map<number, PendingRequest>();
  private serving = 0;
  /**
   * Refusals (BUSY) waiting to be written: an answer that does not fit queueMaxBytes becomes one, held past
   * that bound, so they are counted. A peer keeps at most maxRequestsInFlight requests in flight, so it has
   * more unread only if it sends requests and does not read the answers; then the link is closed, not paused:
   * reading also brings acks and the answers to our requests, and two nodes that each stopped reading the
   * other would wait for good.
   */
  private refusalsHeld = 0;
  /** An ack was due while the socket waited for drain: acks are cumulative, so one is written after it. */
  private ackOwed = false;
  /**
   * Armed while written messages wait for their ack (settings.ackTimeoutMs): one timer per link, re-armed
   * from `ackProgressAt` when it fires rather than at every ack.
   */
  private ackTimer: NodeJS.Timeout | undefined;
  /** When the oldest wait for an ack began: the first write after all was acknowledged, or the last ack that advanced. */
  private ackProgressAt = 0;
  private closed = false;

  constructor(
    readonly peer: string,
    private readonly host: PeerLinkHost,
  ) {}

  get queuedMessages(): number {
    return this.heldMessages;
  }

  get queuedBytes(): number {
    return this.heldBytes;
  }

  send(message: AclMessage, receiver: string, origin?: string): SendResult {
    if (this.closed || this.inBackoff()) return 'unreachable';
    const { settings } = this.host;
    if (this.heldMessages >= settings.queueMaxMessages) return 'full';
    let bytes: Buffer;
    try {
      bytes = encodeAclMessage(message, receiver);
    } catch {
      return 'full'; // not encodable (a BigInt, a cycle, nesting beyond the stack): refused, never thrown
    }
    const envelope = origin === undefined ? undefined : encodeOriginEnvelope(origin);
    const frameBytes = bytes.length + (envelope?.length ?? 0) + FRAME_HEADER_BYTES;
    if (this.heldBytes + bytes.length > settings.queueMaxBytes || frameBytes > settings.maxFrameBytes) return 'full';
    this.pending.push({ type: FrameType.messages, bytes, message: { message, receiver }, ...(envelope ? { envelope } : {}) });
    this.heldMessages++;
    this.heldBytes += bytes.length;
    this.traffic.messagesSent++;
    this.traffic.bytesSent += bytes.length;
    this.kick();
    return 'queued';
  }

  request(method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed || this.inBackoff()) return Promise.reject(new RoutingLinkError('PEER_UNREACHABLE', `peer ${this.peer} is unreachable`));
    if (this.requests.size >= this.host.settings.maxRequestsInFlight) {
      return Promise.reject(new RoutingLinkError('QUEUE_FULL', `${this.requests.size} requests to ${this.peer} already in flight`));
    }
    const id = this.nextRequestId++;
    let bytes: Buffer;
    try {
      bytes = encodeValue([id, method, body]);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (bytes.length + FRAME_HEADER_BYTES > this.host.settings.maxFrameBytes) {
      return Promise.reject(new RoutingLinkError('QUEUE_FULL', `request of ${bytes.length} bytes is above routing.max_frame_bytes`));
    }
    if (!this.fitsBytes(bytes.length)) return Promise.reject(new RoutingLinkError('QUEUE_FULL', `the queue to ${this.peer} holds ${this.heldBytes} bytes`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new RoutingLinkError('TIMEOUT', `${method} to ${this.peer}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.requests.set(id, { resolve, reject, timer });
      this.heldBytes += bytes.length;
      this.pending.push({ type: FrameType.request, bytes });
      this.kick();
    });
  }

  /** Takes `socket`, already through TLS and hello, as this link's connection. */
  adopt(socket: TLSSocket, outbound: boolean, peerInstance: string, peerFeatures: readonly string[] = []): void {
    if (this.socket && this.socket !== socket) this.lose('LINK_LOST', false);
    this.socket = socket;
    this.outbound = outbound;
    this.peerInstance = peerInstance;
    this.peerReadsOrigins = peerFeatures.includes(ORIGIN_FEATURE);
    this.ready = true;
    this.failedDials = 0;
    this.notKnownRetries = 0;
    this.backoffUntil = 0;
    this.written = this.acked = this.received = 0;
    this.stopAckTimer();
    this.ackOwed = false;
    this.probeCount = -1;
    this.reader = new FrameReader(this.host.settings.maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.waitingDrain = false;
      if (this.ackOwed) {
        this.ackOwed = false;
        this.scheduleAck();
      }
      this.flush();
    });
    socket.once('close', () => {
      if (this.socket === socket) this.lose('LINK_LOST');
    });
    this.scheduleFlush();
  }

  /** The socket being dialled, so a crossing inbound connection can be compared with it. */
  dialing(socket: TLSSocket): void {
    this.socket = socket;
    this.outbound = true;
    this.ready = false;
  }

  /**
   * The peer refused the dial because it has not heard of this node's join yet (gossip takes a moment; a
   * restarted node dials at once): what is queued stays queued and the dial is retried after `retryMs`, at
   * most `maxRetries` times in a row, before it counts as a failed dial.
   */
  notYetKnown(socket: TLSSocket, retryMs: number, maxRetries: number): void {
    if (this.socket !== socket) return;
    if (this.notKnownRetries >= maxRetries) {
      this.dialFailed(socket);
      return;
    }
    this.notKnownRetries++;
    this.socket = undefined;
    this.ready = false;
    setTimeout(() => {
      if (!this.closed && !this.socket && (this.pending.length > 0 || this.requests.size > 0)) this.host.dial(this);
    }, retryMs).unref();
  }

  /** A dial failed: whatever waits is reported, and dials back off. */
  dialFailed(socket: TLSSocket | undefined): void {
    if (socket && this.socket !== socket) return;
    this.socket = undefined;
    this.ready = false;
    this.failedDials++;
    const base = Math.min(this.host.settings.reconnectMaxMs, this.host.settings.reconnectInitialMs * 2 ** (this.failedDials - 1));
    this.backoffUntil = Date.now() + base * (0.5 + this.host.random());
    this.failPending('PEER_UNREACHABLE');
  }

  /** The connection failed or was replaced: written-but-unacknowledged messages are reported; the rest waits. */
  lose(reason: UndeliveredReason, redial = true): void {
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    this.reader = undefined;
    this.waitingDrain = false;
    this.stopAckTimer();
    socket?.destroy();
    const lost = this.unacked.drain();
    for (const b of this.unackedBytes.drain()) this.heldBytes -= b;
    this.heldMessages -= lost.length;
    if (lost.length > 0) this.host.undelivered(this.peer, lost, reason);
    for (const [id, r] of this.requests) {
      clearTimeout(r.timer);
      r.reject(new RoutingLinkError(reason, `link to ${this.peer} lost before the answer`));
      this.requests.delete(id);
    }
    // Requests just failed and answers to a lost connection's requests mean nothing on a new one.
    for (const item of this.pending.drain()) {
      if (item.message) this.pending.push(item);
      else this.heldBytes -= item.bytes.length;
    }
    this.refusalsHeld = 0;
    if (this.closed) this.failPending('LINK_CLOSED');
    else if (redial && this.pending.length > 0) this.kick();
  }

  close(): void {
    this.closed = true;
    this.lose('LINK_CLOSED');
    this.failPending('LINK_CLOSED');
  }

  /**
   * Requests and answers (and the room reserved for an answer, AnswerRoom) count against queueMaxBytes until
   * written; one is always let through when nothing else is held, so a module as large as a frame can still
   * travel (the bound is then one frame).
   */
  private fitsBytes(bytes: number): boolean {
    return this.heldBytes === 0 || this.heldBytes + bytes <= this.host.settings.queueMaxBytes;
  }

  private inBackoff(): boolean {
    return this.backoffUntil > 0 && !this.socket && Date.now() < this.backoffUntil;
  }

  private failPending(reason: UndeliveredReason): void {
    const items = this.pending.drain();
    this.refusalsHeld = 0;
    const messages: RoutedMessage[] = [];
    for (const item of items) {
      this.heldBytes -= item.bytes.length;
      if (item.message) {
        messages.push(item.message);
        this.heldMessages--;
      }
    }
    if (messages.length > 0) this.host.undelivered(this.peer, messages, reason);
    for (const [id, r] of this.requests) {
      clearTimeout(r.timer);
      r.reject(new RoutingLinkError(reason, `peer ${this.peer} is unreachable`));
      this.requests.delete(id);
    }
  }

  private kick(): void {
    if (this.ready) this.scheduleFlush();
    else if (!this.socket && !this.closed) this.host.dial(this);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes everything queued, MESSAGES batched up to batchBytes per frame, in one write per turn. */
  private flush(): void {
    const socket = this.socket;
    if (!this.ready || !socket || this.waitingDrain || this.pending.length === 0) return;
    const { batchBytes, compressAboveBytes } = this.host.settings;
    const frames: Buffer[] = [];
    let parts: Buffer[] = [];
    let partBytes = 0;
    const closeBatch = (): void => {
      if (parts.length === 0) return;
      frames.push(encodeFrame(FrameType.messages, parts, partBytes, compressAboveBytes));
      parts = [];
      partBytes = 0;
    };
    for (let item = this.pending.shift(); item; item = this.pending.shift()) {
      if (item.type === FrameType.messages) {
        // Decided here, not when queued: the connection (and so the peer's version) may change in between.
        const envelope = this.peerReadsOrigins ? item.envelope : undefined;
        const size = item.bytes.length + (envelope?.length ?? 0);
        if (partBytes + size > batchBytes) closeBatch();
        if (envelope) parts.push(envelope);
        parts.push(item.bytes);
        partBytes += size;
        if (this.written === this.acked) this.ackProgressAt = Date.now();
        this.unacked.push(item.message as RoutedMessage);
        this.unackedBytes.push(item.bytes.length);
        this.written++;
      } else {
        closeBatch();
        this.heldBytes -= item.bytes.length;
        if (item.refusal) this.refusalsHeld--;
        frames.push(encodeFrame(item.type, [item.bytes], item.bytes.length, compressAboveBytes));
      }
    }
    closeBatch();
    if (this.probeCount === -1 && this.written > this.acked && this.host.ackLatency) {
      this.probeCount = this.written;
      this.probeAt = performance.now();
    }
    const data = frames.length === 1 ? frames[0] : Buffer.concat(frames);
    if (this.written > this.acked) this.armAckTimer(this.host.settings.ackTimeoutMs);
    if (!socket.write(data)) this.waitingDrain = true;
  }

  /** Closes the link when written messages wait past ackTimeoutMs for their ack; their senders get LINK_LOST. */
  private armAckTimer(delayMs: number): void {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.ready || this.written === this.acked) return;
      const waited = Date.now() - this.ackProgressAt;
      const timeoutMs = this.host.settings.ackTimeoutMs;
      if (waited < timeoutMs) this.armAckTimer(timeoutMs - waited);
      else this.dropLink(`${this.written - this.acked} messages written ${waited} ms ago are not acknowledged`);
    }, delayMs);
    this.ackTimer.unref();
  }

  private stopAckTimer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private onData(chunk: Buffer): void {
    const reader = this.reader;
    if (!reader) return;
    try {
      for (const frame of reader.push(chunk)) {
        if (this.reader !== reader) return; // an earlier frame of this chunk got the link closed
        this.handle(frame);
      }
    } catch (error) {
      this.dropLink((error as Error).message);
    }
  }

  private dropLink(why: string): void {
    this.host.badPeer(this.peer, `closed the link: ${why}`);
    this.lose('LINK_LOST');
  }

  private handle(frame: Frame): void {
    switch (frame.type) {
      case FrameType.messages: {
        // Batches close at batchBytes (flush), so a larger MESSAGES frame is one message alone, as every
        // version of this code writes it. A peer's 19 MiB frame of 174,000 tiny messages held a node's
        // event loop for 2.2 s each (maxFrameBytes is sized for one module in a response).
        const values = decodeAclMessages(frame.payload, frame.payload.length > this.host.settings.batchBytes ? 1 : Infinity);
        for (const v of values) {
          if (!isAclMessage(v.message)) throw new FrameError('a MESSAGES frame holds something that is not a stamped ACL message');
        }
        this.received += values.length;
        this.traffic.messagesReceived += values.length;
        this.traffic.bytesReceived += frame.payload.length;
        this.scheduleAck();
        for (const v of values) this.host.deliver(this.peer, v.message as AclMessage, v.receiver, v.origin);
        return;
      }
      case FrameType.ack: {
        const count = decodeValue(frame.payload);
        if (typeof count !== 'number' || !Number.isInteger(count) || count < this.acked || count > this.written) {
          throw new FrameError(`ack of ${describeError(count)} outside ${this.acked}..${this.written}`);
        }
        if (count > this.acked) this.ackProgressAt = Date.now();
        for (; this.acked < count; this.acked++) {
          this.unacked.shift();
          this.heldBytes -= this.unackedBytes.shift() as number;
          this.heldMessages--;
        }
        if (this.probeCount !== -1 && count >= this.probeCount) {
          this.probeCount = -1;
          this.host.ackLatency?.(this.peer, performance.now() - this.probeAt);
        }
        return;
      }
      case FrameType.request: {
        const value = decodeValue(frame.payload);
        if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'number' || typeof value[1] !== 'string') {
          throw new FrameError('malformed REQUEST frame');
        }
        this.answer(value[0], value[1], value[2]);
        return;
      }
      case FrameType.response: {
        const value = decodeValue(frame.payload);
        if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'number' || typeof value[1] !== 'boolean') {
          throw new FrameError('malformed RESPONSE frame');
        }
        const pending = this.requests.get(value[0]);
        if (!pending) return; // timed out already
        this.requests.delete(value[0]);
        clearTimeout(pending.timer);
        // The error is whatever the peer sent (any decoded shape): describeError never throws, so the request
        // is settled, not left removed from `requests` with its timer cleared.
        if (value[1]) pending.resolve(value[2]);
        else pending.reject(new RoutingLinkError('REMOTE_ERROR', describeError(value[2])));
        return;
      }
      default:
        throw new FrameError(`unexpected frame type ${frame.type}`);
    }
  }

  private answer(id: number, method: string, body: unknown): void {
    const socket = this.socket;
    /** Bytes the handler reserved (room.reserve), held in heldBytes until the answer replaces them. */
    let reserved = 0;
    const room: AnswerRoom = {
      reserve: (bytes) => {
        if (reserved > 0) return 'room for this answer is held already';
        if (this.socket !== socket) return `the connection of ${this.peer} that asked is gone`;
        const size = bytes + ANSWER_ENVELOPE_BYTES;
        const { maxFrameBytes, queueMaxBytes } = this.host.settings;
        if (size + FRAME_HEADER_BYTES > maxFrameBytes) return `an answer of ${bytes} bytes is above routing.max_frame_bytes (${maxFrameBytes})`;
        if (!this.fitsBytes(size)) return `the queue to ${this.peer} holds ${this.heldBytes} bytes, and routing.queue_max_bytes is ${queueMaxBytes}`;
        reserved = size;
        this.heldBytes += size;
        return undefined;
      },
    };
    const reply = (ok: boolean, value: unknown): void => {
      this.heldBytes -= reserved;
      reserved = 0;
      // The peer already failed the requests of a lost connection; answering them on a new one is noise.
      if (this.socket !== socket) return;
      let bytes: Buffer;
      try {
        bytes = encodeValue([id, ok, value]);
      } catch (error) {
        bytes = encodeValue([id, false, `answer not encodable: ${describeError(error)}`]);
      }
      if (bytes.length + FRAME_HEADER_BYTES > this.host.settings.maxFrameBytes) bytes = encodeValue([id, false, 'answer above routing.max_frame_bytes']);
      let refusal = false;
      if (!this.fitsBytes(bytes.length)) {
        if (this.refusalsHeld >= this.host.settings.maxRequestsInFlight) {
          this.dropLink(`${this.refusalsHeld} refusals wait for it to read them, and it sends more requests`);
          return;
        }
        bytes = encodeValue([id, false, 'BUSY: the answering node\'s queue to you is full; retry']);
        refusal = true;
        this.refusalsHeld++;
      }
      this.heldBytes += bytes.length;
      this.pending.push({ type: FrameType.response, bytes, ...(refusal ? { refusal: true as const } : {}) });
      this.scheduleFlush();
    };
    if (this.serving >= this.host.settings.maxRequestsInFlight) {
      reply(false, 'BUSY: too many requests in flight');
      return;
    }
    this.serving++;
    this.host.serve(this.peer, method, body, room).then(
      (value) => {
        this.serving--;
        reply(true, value);
      },
      (error: unknown) => {
        this.serving--;
        reply(false, describeError(error));
      },
    );
  }

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (!this.ready || !this.socket || this.socket.destroyed) return;
      // Written past the queue: held back while the peer does not read, or acks would pile up without bound.
      if (this.waitingDrain) this.ackOwed = true;
      else this.socket.write(encodeValueFrame(FrameType.ack, this.received));
    });
  }
}

/**
 * What a response frame's value holds beyond the answer a handler reserved room for: [id, ok, {ok: …}] and a
 * binary's length take under 32 bytes; the rest is margin, so the answer always fits the room it was given.
 */
const ANSWER_ENVELOPE_BYTES = 64;

function isAclMessage(v: unknown): v is AclMessage {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  if (typeof m.sender !== 'string' || typeof m.message_id !== 'string' || typeof m.conversation_id !== 'string') return false;
  return parseMessage(v).ok;
}
