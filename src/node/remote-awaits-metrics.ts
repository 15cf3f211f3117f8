// /metrics for the ledger of what local agents await from agents on other nodes (RemoteAwaits): how many
// are held, and how entries ended other than by an answer — NODE_FAILED, evicted by the bound (their senders
// are not told of a death), expired — and the LINK_LOSTs not answered because NODE_FAILED had been.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RemoteAwaits } from '../messaging/remote-awaits.ts';

export function registerRemoteAwaitsMetrics(registry: Registry, awaits: RemoteAwaits): void {
  new Gauge({
    name: 'caxton_remote_awaits',
    help: 'Messages local agents sent to agents on other nodes and still await an answer to (messages.remote_awaits_max).',
    registers: [registry],
    collect() {
      this.set(awaits.size);
    },
  });
  new Counter({
    name: 'caxton_remote_awaits_ended_total',
    help: 'Awaited messages that ended without an answer: failed (NODE_FAILED sent), evicted (ledger full), expired; suppressed: LINK_LOST not sent after NODE_FAILED.',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = awaits.stats;
      this.inc({ outcome: 'failed' }, stats.failed);
      this.inc({ outcome: 'evicted' }, stats.evicted);
      this.inc({ outcome: 'expired' }, stats.expired);
      this.inc({ outcome: 'suppressed' }, stats.suppressed);
    },
  });
}
