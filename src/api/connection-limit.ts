// A bound on the API's open connections (api.max_connections): Node's own `maxConnections` closes a connection
// past it as soon as it is accepted, before anything is read, so a flood of idle sockets costs the node a
// counter increment each rather than memory. Counted in caxton_api_connections_dropped_total.
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';

const DROPPED = 'caxton_api_connections_dropped_total';

export function limitConnections(app: FastifyInstance, maxConnections: number, registry: Registry): void {
  // One counter per registry: tests build several APIs on one.
  const dropped =
    (registry.getSingleMetric(DROPPED) as Counter | undefined) ??
    new Counter({ name: DROPPED, help: 'API connections closed on arrival because api.max_connections were open.', registers: [registry] });
  app.server.maxConnections = maxConnections;
  app.server.on('drop', () => dropped.inc());
}
