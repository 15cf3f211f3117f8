// routing.* of caxton.yaml → the link settings (the rest keep ROUTING_LINK_DEFAULTS).
import type { Config } from '../../config/config.ts';
import type { RoutingLinkSettings } from './routing-options.ts';

export function routingSettingsFrom(routing: Config['routing']): Partial<RoutingLinkSettings> {
  return {
    maxFrameBytes: routing.max_frame_bytes,
    queueMaxMessages: routing.queue_max_messages,
    queueMaxBytes: routing.queue_max_bytes,
    compressAboveBytes: routing.compress ? routing.compress_threshold_bytes : Infinity,
    connectTimeoutMs: routing.connect_timeout_ms,
    ackTimeoutMs: routing.ack_timeout_ms,
  };
}
