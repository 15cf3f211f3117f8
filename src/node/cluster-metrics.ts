// The cluster layer on /metrics, read at scrape time from the counters the layers keep anyway: gossip
// traffic, gossip input dropped by cause (transport.stats), members by state, the agent registry, and the
// routing links' traffic per peer. Nothing is counted twice and nothing runs per message. Two histograms are
// fed as events happen instead: gossip convergence and failure detection (the node's PerformanceRecorder).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClusterService } from '../cluster/cluster-service.ts';

/** transport.stats keys that count gossip input dropped, and their label (memberlist's wording where it has one). */
const DROP_CAUSES = {
  decryptFailed: 'decryption_failed',
  unencrypted: 'unencrypted',
  badCrc: 'bad_crc',
  unknownType: 'unknown_type',
  labelled: 'labelled',
  malformed: 'malformed',
  truncatedParts: 'truncated',
  handlerErrors: 'handler_error',
  streamErrors: 'stream_error',
  refusedStreams: 'too_many_streams',
  oversizedStreams: 'stream_too_large',
} as const;

const MEMBER_STATES = ['alive', 'suspect', 'dead', 'left'] as const;

/** A counter whose value is read from elsewhere at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export interface ClusterHistograms {
  gossipConvergence: Histogram;
  failureDetection: Histogram;
}

export function registerClusterMetrics(registry: Registry, cluster: ClusterService): ClusterHistograms {
  const histograms: ClusterHistograms = {
    gossipConvergence: new Histogram({
      name: 'caxton_gossip_convergence_seconds',
      help: "A peer's agent registry write until this node learnt it by gossip (the writer's clock to this node's: clock skew between hosts adds in).",
      // The seed's target is 5 s, its goal 2 s; on one host a write arrives in tens of milliseconds.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    failureDetection: new Histogram({
      name: 'caxton_failure_detection_seconds',
      help: "A member's first suspicion until this node declared it dead.",
      // The seed's target is 5 s, its goal a median under 3 s.
      buckets: [0.5, 1, 2, 3, 4, 5, 7.5, 10, 20, 60],
      registers: [registry],
    }),
  };
  const traffic = () => cluster.traffic();
  readCounter(registry, 'caxton_gossip_packets_sent_total', 'Gossip datagrams sent.', () => traffic().packetsSent);
  readCounter(registry, 'caxton_gossip_packets_received_total', 'Gossip datagrams received.', () => traffic().packetsReceived);
  readCounter(registry, 'caxton_gossip_sent_bytes_total', 'Gossip bytes sent (datagrams and push-pull streams).', () => traffic().bytesSent);
  readCounter(registry, 'caxton_gossip_received_bytes_total', 'Gossip bytes received (datagrams and push-pull streams).', () => traffic().bytesReceived);
  readCounter(registry, 'caxton_gossip_push_pulls_total', 'Push-pull state exchanges.', () => traffic().pushPulls);
  new Counter({
    name: 'caxton_gossip_packets_dropped_total',
    help: 'Gossip input refused, by cause (each cause is also logged, at most once a minute per source address).',
    labelNames: ['cause'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = cluster.transport.stats;
      for (const [key, cause] of Object.entries(DROP_CAUSES)) this.inc({ cause }, stats[key as keyof typeof DROP_CAUSES]);
    },
  });
  new Gauge({
    name: 'caxton_cluster_members',
    help: 'Cluster members as this node sees them, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>();
      for (const m of cluster.members()) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
      for (const state of MEMBER_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  readCounter(
    registry,
    'caxton_registry_entries_refused_ahead_total',
    "Registry writes from peers refused for a Lamport time beyond what the cluster could have written by now (a forged or corrupt write).",
    () => cluster.registry.stats().refusedAhead,
  );
  new Gauge({
    name: 'caxton_registry_agents',
    help: 'Agents in the cluster-wide registry as this node holds it.',
    registers: [registry],
    collect() {
      this.set(cluster.registry.stats().records);
    },
  });
  const links = cluster.routing;
  if (!links) return histograms;
  const linkCounter = (name: string, help: string, field: 'messagesSent' | 'bytesSent' | 'messagesReceived' | 'bytesReceived'): void => {
    new Counter({
      name,
      help,
      labelNames: ['peer'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of links.linkTraffic()) this.inc({ peer: t.node }, t[field]);
      },
    });
  };
  linkCounter('caxton_link_messages_sent_total', 'Messages queued on the routing link to each peer.', 'messagesSent');
  linkCounter('caxton_link_sent_bytes_total', 'Encoded message bytes queued on the routing link to each peer.', 'bytesSent');
  linkCounter('caxton_link_messages_received_total', 'Messages received on the routing link from each peer.', 'messagesReceived');
  linkCounter('caxton_link_received_bytes_total', 'Message frame bytes received on the routing link from each peer.', 'bytesReceived');
  new Gauge({
    name: 'caxton_link_queued_messages',
    help: 'Messages waiting on the routing link to each peer (written, not yet acknowledged).',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of links.linkStates()) this.set({ peer: l.node }, l.queuedMessages);
    },
  });
  new Gauge({
    name: 'caxton_link_up',
    help: '1 when the routing link to a peer has completed its hello, else 0.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of links.linkStates()) this.set({ peer: l.node }, l.up ? 1 : 0);
    },
  });
  return histograms;
}
