// An unauthenticated flood of the gossip TCP port, shared by the hardening test and bench/gossip-tcp-flood.ts:
// each connection declares a body as large as memberlist would accept (20 MiB) and sends all of it but the
// last byte, as fast as the node reads, then holds the connection open.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { MsgpackWriter } from '../../src/cluster/wire/msgpack.ts';

/** What memberlist would accept: just under its 20 MiB limit. */
export const MEMBERLIST_LIMIT_BYTES = 20 * 1024 * 1024 - 64;
const CHUNK = Buffer.alloc(256 * 1024, 0x41);

/** VmRSS and VmHWM (peak) of a process, in KiB. */
export function readRssKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? 0);
  return { rss: field('VmRSS:'), hwm: field('VmHWM:') };
}

/** The header of a plain push-pull whose user state is `userStateLen` bytes, none of them sent yet. */
function pushPullHeader(userStateLen: number): Uint8Array {
  const w = new MsgpackWriter(64);
  w.byte(6).mapHeader(3).str('Join').bool(false).str('Nodes').uint(0).str('UserStateLen').uint(userStateLen);
  return w.finish();
}

/** The 5-byte header of an encrypted stream message of `length` bytes. */
function encryptedHeader(length: number): Uint8Array {
  const h = Buffer.alloc(5);
  h[0] = 10;
  h.writeUInt32BE(length, 1);
  return h;
}

/** Opens one connection, declares a huge body, sends all but its last byte (or until refused); resolves then. */
export function floodConnection(
  port: number,
  encrypted: boolean,
  sockets: Socket[],
  declaredBytes = MEMBERLIST_LIMIT_BYTES,
  /** Keep writing after the node's FIN, as a raw client that ignores it does (Node's default ends too). */
  ignoreFin = false,
): Promise<{ sent: number; refused: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: ignoreFin });
    sockets.push(socket);
    let sent = 0;
    let done = false;
    const finish = (refused: boolean): void => {
      if (done) return;
      done = true;
      resolve({ sent, refused });
    };
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', () => {}); // an errResp, if any
    const header = encrypted ? encryptedHeader(declaredBytes) : pushPullHeader(declaredBytes);
    const total = header.length + declaredBytes - 1;
    const pump = (): void => {
      while (sent < total && !socket.destroyed) {
        const n = Math.min(CHUNK.length, total - sent);
        sent += n;
        if (!socket.write(CHUNK.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      if (sent >= total) finish(false);
    };
    socket.once('connect', () => {
      socket.write(header);
      sent = header.length;
      pump();
    });
  });
}
