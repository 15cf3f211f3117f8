// Tracing for a node when `telemetry.otlp_endpoint` is set (src/observability/tracing.ts), and the sink the
// runtime sends through: the router itself when tracing is off, so an untraced node pays nothing per send.
import type { Config } from '../config/config.ts';
import type { MessageSink } from '../messaging/delivery.ts';
import type { Logger } from '../observability/logger.ts';
import { NodeTracing } from '../observability/tracing.ts';

/** An export failure is logged at most once per this interval: a collector down for an hour is one line a minute. */
const EXPORT_ERROR_LOG_INTERVAL_MS = 60_000;

export function tracingFor(config: Config, nodeId: string, version: string, logger: Logger): NodeTracing | undefined {
  const t = config.telemetry;
  if (t.otlp_endpoint === undefined) return undefined;
  let lastLogged = 0;
  let failures = 0;
  const tracing = new NodeTracing({
    endpoint: t.otlp_endpoint,
    samplingRatio: t.sampling_ratio,
    serviceName: t.service_name,
    nodeId,
    version,
    maxQueuedSpans: t.max_queued_spans,
    exportIntervalMs: t.export_interval_ms,
    onExportError: (error) => {
      failures++;
      const now = Date.now();
      if (now - lastLogged < EXPORT_ERROR_LOG_INTERVAL_MS) return;
      lastLogged = now;
      logger.warn({ err: error, endpoint: t.otlp_endpoint, failures }, 'exporting spans failed (logged once a minute)');
    },
  });
  logger.info({ endpoint: t.otlp_endpoint, sampling_ratio: t.sampling_ratio }, 'tracing: spans are exported over OTLP/HTTP');
  return tracing;
}

/** Every send of the runtime opens a route span when tracing is on; otherwise the sink is returned as it is. */
export function tracedSink(tracing: NodeTracing | undefined, sink: MessageSink): MessageSink {
  if (tracing === undefined) return sink;
  const route = (message: Parameters<MessageSink['route']>[0]): void => sink.route(message);
  return { route: (message) => tracing.route(message, route) };
}
