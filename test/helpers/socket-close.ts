// Whether the other side closes a socket in time: the tests of connections a server must not hold for ever.
import type { Socket } from 'node:net';

/** Resolves true when `socket` closes within `ms` (or is closed already), false when it is still open then. */
export function closesWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
