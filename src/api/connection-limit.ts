// Bounds on the API's connections.
// - api.max_connections: Node's own `maxConnections` closes a connection past it as soon as it is accepted,
//   before anything is read, so a flood of idle sockets costs the node a counter increment each rather than
//   memory. Counted in caxton_api_connections_dropped_total.
// - api.first_request_timeout_ms: a connection that sent no request's headers that long after it was accepted
//   (over TLS: after its handshake, which has the same bound, server.ts) is closed (silent-connections.ts):
//   10,000 sockets that never sent a byte, from one source without credentials, held every slot of
//   max_connections for ever. Counted in caxton_api_connections_timed_out_total.
// - api.max_connections_per_source: one source's open connections (an IPv4 address, an IPv6 /64); one more is
//   closed as soon as it is accepted (caxton_api_connections_dropped_total too). Every request is bounded in
//   time, but one source opening connections faster than they end could still hold all of max_connections.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { closeSilentConnections } from './silent-connections.ts';
import { sourceKeyOf } from './source-key.ts';

const DROPPED = 'caxton_api_connections_dropped_total';
const TIMED_OUT = 'caxton_api_connections_timed_out_total';

/** One counter per registry: tests build several APIs on one. */
function counter(registry: Registry, name: string, help: string): Counter {
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

export interface ConnectionBounds {
  maxConnections: number;
  maxConnectionsPerSource: number;
  firstRequestTimeoutMs: number;
}

export function limitConnections(app: FastifyInstance, bounds: ConnectionBounds, registry: Registry): void {
  const { maxConnections, maxConnectionsPerSource, firstRequestTimeoutMs } = bounds;
  const dropped = counter(registry, DROPPED, 'API connections closed on arrival because api.max_connections, or api.max_connections_per_source of their source, were open.');
  const timedOut = counter(registry, TIMED_OUT, 'API connections closed because no request arrived within api.first_request_timeout_ms of their start.');
  app.server.maxConnections = maxConnections;
  app.server.on('drop', () => dropped.inc());
  // Open connections per source: an entry per source with one open, so at most maxConnections entries.
  const perSource = new Map<string, number>();
  app.server.on('connection', (socket: Socket) => {
    // An IPv6 host picks among a /64's addresses at will: one /64 is one source (source-key.ts).
    if (socket.remoteAddress === undefined) return;
    const source = sourceKeyOf(socket.remoteAddress);
    const open = (perSource.get(source) ?? 0) + 1;
    if (open > maxConnectionsPerSource) {
      dropped.inc();
      socket.destroy();
      return;
    }
    perSource.set(source, open);
    socket.once('close', () => {
      const left = (perSource.get(source) ?? 1) - 1;
      if (left > 0) perSource.set(source, left);
      else perSource.delete(source);
    });
  });
  closeSilentConnections(app.server, firstRequestTimeoutMs, () => timedOut.inc());
}
