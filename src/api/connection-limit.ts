// Bounds on the API's connections.
// - api.max_connections: Node's own `maxConnections` closes a connection past it as soon as it is accepted,
//   before anything is read, so a flood of idle sockets costs the node a counter increment each rather than
//   memory. Counted in caxton_api_connections_dropped_total.
// - api.first_request_timeout_ms: a connection that has not sent a request's headers that long after it was
//   accepted (over TLS: after its handshake, which has the same bound) is closed. Node bounds a request once it
//   has begun (requestTimeout), and the idle time after one (keepAliveTimeout), but not a connection that never
//   sends a byte: 10,000 of those, from one source and without credentials, held every slot of max_connections
//   for ever (still open after 75 s on the last release). Counted in caxton_api_connections_timed_out_total.
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';

const DROPPED = 'caxton_api_connections_dropped_total';
const TIMED_OUT = 'caxton_api_connections_timed_out_total';
/** The timer of a connection still waiting for its first request, on the socket itself: no map to keep. */
const FIRST_REQUEST_TIMER = Symbol('caxton first request timer');

type WaitingSocket = Socket & { [FIRST_REQUEST_TIMER]?: NodeJS.Timeout };

/** One counter per registry: tests build several APIs on one. */
function counter(registry: Registry, name: string, help: string): Counter {
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

export function limitConnections(app: FastifyInstance, maxConnections: number, firstRequestTimeoutMs: number, registry: Registry): void {
  const dropped = counter(registry, DROPPED, 'API connections closed on arrival because api.max_connections were open.');
  const timedOut = counter(registry, TIMED_OUT, 'API connections closed because no request arrived within api.first_request_timeout_ms of their start.');
  const server = app.server;
  server.maxConnections = maxConnections;
  server.on('drop', () => dropped.inc());

  // Over TLS the handshake is bounded by the server's handshakeTimeout, given at its creation (server.ts).
  const tls = server instanceof TlsServer;
  // Watched from the socket the HTTP parser reads (after the handshake over TLS), and let go at the first
  // request's headers: not with a 'data' listener, which would take the socket off Node's native parsing path.
  server.on(tls ? 'secureConnection' : 'connection', (socket: WaitingSocket) => {
    const timer = setTimeout(() => {
      timedOut.inc();
      socket.destroy();
    }, firstRequestTimeoutMs);
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
  // A websocket's handshake (the console's live view) is a request that never emits 'request'.
  server.on('upgrade', started);
}
