// The live figures `caxton cluster performance` shows, measured by this node as it works: routing latency
// (one routing decision in 64 timed), messages per second, agent start-up (every agent_init), and the
// failure detections it saw (a member's first suspicion to its declared death), and gossip convergence
// (a peer's registry write until this node learnt it, src/cluster/registry/convergence-meter.ts). Bounded
// rings, nothing allocated per message.
import type { MessageSink } from '../messaging/delivery.ts';
import type { Histogram } from 'prom-client';
import { LatencyWindow } from './latency-window.ts';
import { RateMeter } from './rate-meter.ts';
import { AgeOrderedMap } from '../messaging/age-ordered-map.ts';

/** One routing decision in this many is timed (a power of two): two clock reads per 64 messages. */
export const ROUTING_SAMPLE_EVERY = 64;
/** Samples kept per figure: at 100k msg/s the routing ring spans the last ~2.6 s, at 1k msg/s ~4 min. */
const WINDOW_SAMPLES = 4096;
/** Messages per second are averaged over this many seconds. */
export const THROUGHPUT_WINDOW_SECONDS = 5;
/** Members whose suspicion start is remembered: one per member of the largest cluster, with room. */
const MAX_SUSPECTS = 1024;

export class PerformanceRecorder {
  /** Routing decisions in microseconds. */
  readonly routing = new LatencyWindow(WINDOW_SAMPLES);
  /** Remote hops in milliseconds: a batch written to a peer's link until the peer acknowledged it. */
  readonly remoteRouting = new LatencyWindow(WINDOW_SAMPLES);
  /** Agent start-up (instantiate + agent_init) in milliseconds. */
  readonly agentStart = new LatencyWindow(WINDOW_SAMPLES);
  /** Failure detections seen, in seconds. */
  readonly failureDetection = new LatencyWindow(64);
  /** Gossip convergence of registry writes, in milliseconds: a peer's write until this node learnt it. */
  readonly gossipConvergence = new LatencyWindow(WINDOW_SAMPLES);
  readonly throughput: RateMeter;
  readonly #suspectedAt = new AgeOrderedMap<string, number>();
  #routed = 0;
  readonly #histogram: Histogram | undefined;
  #convergenceHistogram: Histogram | undefined;
  #failureDetectionHistogram: Histogram | undefined;

  /** `routedCount`: delivery attempts so far (the caxton_messages_routed_total cells). */
  constructor(routedCount: () => number, histogram?: Histogram) {
    this.throughput = new RateMeter(routedCount, THROUGHPUT_WINDOW_SECONDS);
    this.#histogram = histogram;
  }

  /** The sink with one routing decision in ROUTING_SAMPLE_EVERY timed. */
  timedSink(sink: MessageSink): MessageSink {
    return {
      route: (message) => {
        if ((++this.#routed & (ROUTING_SAMPLE_EVERY - 1)) !== 0) {
          sink.route(message);
          return;
        }
        const started = performance.now();
        sink.route(message);
        this.recordRouting(performance.now() - started);
      },
    };
  }

  /** A routing decision that took `ms`. */
  recordRouting(ms: number): void {
    this.routing.record(ms * 1000);
    this.#histogram?.observe(ms / 1000);
  }

  /** The cluster's histograms on /metrics, fed beside the windows once the cluster layer exists. */
  useClusterHistograms(histograms: { gossipConvergence: Histogram; failureDetection: Histogram }): void {
    this.#convergenceHistogram = histograms.gossipConvergence;
    this.#failureDetectionHistogram = histograms.failureDetection;
  }

  /** A peer's registry write reached this node `ms` after it was made. */
  recordConvergence(ms: number): void {
    this.gossipConvergence.record(ms);
    this.#convergenceHistogram?.observe(ms / 1000);
  }

  /** A member changed state: a suspicion starts the clock, a death after it stops it. */
  memberChanged(id: string, state: string, now = performance.now()): void {
    if (state === 'suspect') {
      if (!this.#suspectedAt.has(id)) {
        if (this.#suspectedAt.size >= MAX_SUSPECTS) this.#suspectedAt.shift();
        this.#suspectedAt.set(id, now);
      }
      return;
    }
    const since = this.#suspectedAt.get(id);
    this.#suspectedAt.delete(id);
    if (state === 'dead' && since !== undefined) {
      this.failureDetection.record((now - since) / 1000);
      this.#failureDetectionHistogram?.observe((now - since) / 1000);
    }
  }

  close(): void {
    this.throughput.close();
  }
}
