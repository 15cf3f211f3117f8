// Closes HTTP connections that send no request. Node bounds a request once it has begun (requestTimeout) and
// the idle time after one (keepAliveTimeout), but not a connection that never sends a byte: such sockets hold
// a slot of the server's maxConnections for ever. Here each new connection (over TLS: from the end of its
// handshake, which the server's handshakeTimeout bounds) is closed unless a request's headers arrive within
// `timeoutMs`. Watched with a timer per connection, let go at the first request: not with a 'data' listener,
// which would take the socket off Node's native parsing path.
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

/** The timer of a connection still waiting for its first request, on the socket itself: no map to keep. */
const FIRST_REQUEST_TIMER = Symbol('caxton first request timer');

type WaitingSocket = Socket & { [FIRST_REQUEST_TIMER]?: NodeJS.Timeout };

/** `closed` is told of each connection closed for sending no request in time. */
export function closeSilentConnections(server: HttpServer, timeoutMs: number, closed: () => void = () => {}): void {
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: WaitingSocket) => {
    const timer = setTimeout(() => {
      closed();
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket[FIRST_REQUEST_TIMER] = timer;
    socket.once('close', () => clearTimeout(timer));
  });
  const started = (request: { socket: WaitingSocket }): void => {
    const timer = request.socket[FIRST_REQUEST_TIMER];
    if (timer === undefined) return;
    clearTimeout(timer);
    request.socket[FIRST_REQUEST_TIMER] = undefined;
  };
  server.on('request', started);
  // No 'upgrade' listener: with one, Node hands every request asking for an upgrade to it instead of answering it
  // as a request, and one that did nothing with it held the socket. A server that serves upgrades must let its
  // sockets go here too.
}
