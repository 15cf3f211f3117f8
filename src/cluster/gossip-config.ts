// The node's gossip settings (config gossip.*) as the membership core's config. Keys the config file does
// not expose (reconnect timing, TCP pings, Lifeguard switches) keep the fastDetect profile's values, the
// profile the defaults in src/config/defaults.ts follow.
import type { Config } from '../config/config.ts';
import { DEFAULT_VSN, fastDetectConfig, MEMBERLIST_VSN, type MembershipConfig } from './membership/config.ts';

export function membershipConfigFrom(gossip: Config['gossip']): MembershipConfig {
  const base = fastDetectConfig();
  return {
    ...base,
    probeIntervalMs: gossip.probe_interval_ms,
    probeTimeoutMs: gossip.probe_timeout_ms,
    indirectChecks: gossip.indirect_checks,
    gossipNodes: gossip.gossip_nodes,
    gossipIntervalMs: gossip.gossip_interval_ms,
    pushPullIntervalMs: gossip.push_pull_interval_ms,
    suspicionMult: gossip.suspicion_mult,
    suspicionMaxTimeoutMult: gossip.suspicion_max_timeout_mult,
    retransmitMult: gossip.retransmit_mult,
    awarenessMaxMultiplier: gossip.awareness_max_multiplier,
    tcpTimeoutMs: gossip.tcp_timeout_ms,
    gossipToTheDeadTimeMs: gossip.gossip_to_the_dead_time_ms,
    maxMembers: gossip.max_members,
    maxQueuedBroadcasts: gossip.max_queued_broadcasts,
    vsn: [...(gossip.delegate_versions === 'memberlist' ? MEMBERLIST_VSN : DEFAULT_VSN)],
  };
}
