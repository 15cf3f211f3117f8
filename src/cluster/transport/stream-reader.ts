// Collects the bytes of one TCP stream until the first memberlist message in it is complete.
import type { Socket } from 'node:net';
import type { Keyring } from '../wire/keyring.ts';
import { parseStream, type StreamMessage } from '../wire/stream.ts';

/**
 * Resolves with the first message on `socket`, rejects on a malformed stream (StreamError), a closed
 * socket or the deadline. Parsing restarts from the first byte as data comes; the buffer doubles, so a
 * large push-pull is reparsed once per burst of data (one setImmediate), not once per chunk.
 */
export function readStreamMessage(socket: Socket, keyring: Keyring | undefined, deadlineMs: number): Promise<StreamMessage> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(4096);
    let length = 0;
    let parsedAt = -1;
    let scheduled = false;
    let settled = false;
    const finish = (error: Error | undefined, message?: StreamMessage): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error) reject(error);
      else resolve(message!);
    };
    const tryParse = (): void => {
      scheduled = false;
      if (settled || parsedAt === length) return;
      try {
        parsedAt = length;
        const result = parseStream(buf.subarray(0, length), keyring);
        if (result.done) finish(undefined, result.message);
      } catch (e) {
        finish(e as Error);
      }
    };
    const onData = (chunk: Buffer): void => {
      if (length + chunk.length > buf.length) {
        let size = buf.length * 2;
        while (size < length + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(buf.subarray(0, length));
        buf = next;
      }
      buf.set(chunk, length);
      length += chunk.length;
      if (!scheduled) {
        scheduled = true;
        setImmediate(tryParse);
      }
    };
    const onEnd = (): void => {
      tryParse();
      finish(new Error('stream closed before a complete message'));
    };
    const onError = (e: Error): void => finish(e);
    const timer = setTimeout(() => finish(new Error(`stream timed out after ${deadlineMs} ms`)), deadlineMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}
