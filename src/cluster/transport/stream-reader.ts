// Collects the bytes of one TCP stream until the first memberlist message in it is complete, within the
// bounds an unauthenticated peer gets: a deadline for the first bytes, one for the whole message, a size
// per stream and a budget shared by all streams.
import type { Socket } from 'node:net';
import type { Keyring } from '../wire/keyring.ts';
import { parseStream, StreamError, type StreamMessage, StreamScan, StreamTooLarge } from '../wire/stream.ts';
import type { StreamBudget } from './stream-budget.ts';

export interface StreamReadLimits {
  /** Deadline of the whole message. */
  deadlineMs: number;
  /** The first HEADER_BYTES must arrive within this (a slowloris holds a connection without sending). */
  headerTimeoutMs: number;
  /** Largest message (as received: encrypted, compressed) this stream may carry. */
  maxBytes: number;
  /** Shared by every stream; absent for the replies to our own requests. */
  budget?: StreamBudget;
  /** Node states a push-pull may carry (the wire default when absent). */
  maxPushPullNodes?: number;
}

/** Enough for the encrypted stream header (type + length) and any plain message type with its map header. */
const HEADER_BYTES = 5;
const INITIAL_BUFFER_BYTES = 4096;

/**
 * Resolves with the first message on `socket`, rejects on a malformed or oversized stream (StreamError), a
 * closed socket or a deadline. Each parse resumes where the last one stopped (StreamScan) and waits for the
 * bytes it said it needs, so a message costs time linear in its size however the peer chunks it. The buffer
 * grows by doubling up to the bound and never past what the budget grants; so does a decompressed message,
 * which a few KiB of LZW can make 16 MiB.
 */
export function readStreamMessage(socket: Socket, keyring: Keyring | undefined, limits: StreamReadLimits): Promise<StreamMessage> {
  const { budget, maxBytes } = limits;
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(Math.min(INITIAL_BUFFER_BYTES, maxBytes));
    let length = 0;
    let needBytes = 1;
    let charged = 0;
    const scan = new StreamScan();
    let scheduled = false;
    let settled = false;
    const finish = (error: Error | undefined, message?: StreamMessage): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(headerTimer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      budget?.giveBack(charged);
      charged = 0;
      buf = new Uint8Array(0);
      if (error) reject(error);
      else resolve(message!);
    };
    const tryParse = (): void => {
      scheduled = false;
      if (settled || length < needBytes) return;
      try {
        // The decompressed message lives only during this parse: bounded by the budget, not charged to it.
        const maxInflatedBytes = budget ? budget.freeBytesPerStream + budget.availableBytes : maxBytes;
        const result = parseStream(buf.subarray(0, length), keyring, maxBytes, { scan, maxNodes: limits.maxPushPullNodes, maxInflatedBytes });
        if (result.done) finish(undefined, result.message);
        else needBytes = result.needBytes;
      } catch (e) {
        finish(e instanceof Error ? e : new StreamError(String(e)));
      }
    };
    /** Room for `total` bytes, taken from the budget beyond the stream's free allowance. */
    const grow = (total: number): boolean => {
      let size = buf.length * 2;
      while (size < total) size *= 2;
      size = Math.min(size, maxBytes);
      const charge = Math.max(0, size - (budget?.freeBytesPerStream ?? Infinity));
      if (budget && !budget.tryTake(charge - charged)) return false;
      charged = Math.max(charged, charge);
      const next = new Uint8Array(size);
      next.set(buf.subarray(0, length));
      buf = next;
      return true;
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      const total = length + chunk.length;
      if (total > maxBytes) return finish(new StreamTooLarge(`stream is larger than the limit of ${maxBytes} bytes`));
      if (total > buf.length && !grow(total)) {
        return finish(new StreamTooLarge('gossip stream buffer budget exhausted; try again later'));
      }
      buf.set(chunk, length);
      length = total;
      if (length >= HEADER_BYTES) clearTimeout(headerTimer);
      if (!scheduled && length >= needBytes) {
        scheduled = true;
        setImmediate(tryParse);
      }
    };
    const onEnd = (): void => {
      needBytes = 0;
      tryParse();
      finish(new Error('stream closed before a complete message'));
    };
    const onError = (e: Error): void => finish(e);
    const timer = setTimeout(() => finish(new Error(`stream timed out after ${limits.deadlineMs} ms`)), limits.deadlineMs);
    const headerTimer = setTimeout(() => {
      // A whole message shorter than the header (none exists today) is still accepted once parsed.
      if (length < HEADER_BYTES) finish(new Error(`no stream header within ${limits.headerTimeoutMs} ms`));
    }, limits.headerTimeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}
