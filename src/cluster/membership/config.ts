// Every timing and switch of the membership core, in one place, each with the reason for its value
// (memberlist config.go). Profiles are named, not scattered constants.
import type { Vsn } from './messages.ts';

/** Each Lifeguard refinement can be turned off on its own (for the on/off comparison in the benchmark). */
export interface LifeguardSwitches {
  /** Local health awareness: a node that misses nacks probes less often (awareness.ts). */
  localHealthAwareness: boolean;
  /** Suspicion timeouts that start long and shrink with independent confirmations (suspicion.ts). */
  dynamicSuspicion: boolean;
  /** Ask indirect probers for a nack, so a missing nack tells us we are the unhealthy one. */
  nack: boolean;
  /** Piggyback "you are suspected" on the ping to a suspect node, so it refutes at once. */
  buddySystem: boolean;
}

export interface MembershipConfig {
  /** Time between failure-detection probes of one random member. */
  probeIntervalMs: number;
  /** How long to wait for a direct ack before asking others to probe indirectly. */
  probeTimeoutMs: number;
  /** How many members probe a silent node for us. */
  indirectChecks: number;
  /** A broadcast goes out retransmitMult * max(2, ceil(log10(n + 1))) times (timing.ts retransmitLimit). */
  retransmitMult: number;
  /** Suspicion lasts at least suspicionMult * max(1, log10(n)) * probeInterval. */
  suspicionMult: number;
  /** With no confirmations the suspicion lasts suspicionMaxTimeoutMult times that minimum. */
  suspicionMaxTimeoutMult: number;
  /** Full state exchange with one random member (scaled up past 32 nodes); 0 disables. */
  pushPullIntervalMs: number;
  /** Timeout of a stream exchange (push-pull, TCP ping). */
  tcpTimeoutMs: number;
  /** Skip memberlist's TCP fallback ping after a failed UDP probe. */
  disableTcpPings: boolean;
  /** Health awareness may stretch the probe interval up to this many times. */
  awarenessMaxMultiplier: number;
  /** Members each gossip round sends pending broadcasts to. */
  gossipNodes: number;
  /** Time between gossip rounds. */
  gossipIntervalMs: number;
  /** Dead members still receive gossip this long (so a wrongly declared one can hear it and refute). */
  gossipToTheDeadTimeMs: number;
  /** A dead member (not a left one) is retried by push-pull this often, so partitions heal (Serf's reconnect). */
  reconnectIntervalMs: number;
  /** ...and forgotten after this long. */
  reconnectTimeoutMs: number;
  /**
   * Members held at most, dead and left ones included (memberlist has no bound, but anyone who reaches an
   * unencrypted gossip port can name members): alive news about a new name is ignored at the cap. It also
   * bounds the dead members kept for reconnecting.
   */
  maxMembers: number;
  /** Broadcasts waiting for gossip at most; past it the most transmitted are dropped first (memberlist Prune). */
  maxQueuedBroadcasts: number;
  /** [protocolMin, protocolMax, protocolCur, delegateMin, delegateMax, delegateCur] sent in alive messages. */
  vsn: Vsn;
  lifeguard: LifeguardSwitches;
}

/**
 * memberlist's ProtocolVersionMin 1, ProtocolVersionMax 5, speaking 2 (ProtocolVersion2Compatible, what
 * Serf maps every Serf protocol to); delegate range 2..5 as Serf (ProtocolVersionMin/Max), speaking 4 as
 * Serf's library default. A stock `serf agent` 0.8 sends [1,5,2,2,5,5]; both pass each other's
 * verifyProtocol. protocolMax 5 (>= 3) makes peers try our TCP ping, >= 4 makes them ask us for nacks.
 */
export const DEFAULT_VSN: Vsn = [1, 5, 2, 2, 5, 4];

/**
 * A plain memberlist node (no delegate versions set): delegate range and version 0/0/0. memberlist's
 * verifyProtocol requires every member's delegate version within every other's range, so a cluster holds
 * either this or DEFAULT_VSN (Serf's 2..5), never both.
 */
export const MEMBERLIST_VSN: Vsn = [1, 5, 2, 0, 0, 0];

const LIFEGUARD_ON: LifeguardSwitches = {
  localHealthAwareness: true,
  dynamicSuspicion: true,
  nack: true,
  buddySystem: true,
};

/** memberlist DefaultLANConfig, plus Serf's reconnect so partitions heal. */
export function lanConfig(): MembershipConfig {
  return {
    probeIntervalMs: 1000, // failure check every second
    probeTimeoutMs: 500, // a generous RTT for a LAN
    indirectChecks: 3, // three independent paths before suspecting
    retransmitMult: 4, // enough copies to reach everyone with high probability
    suspicionMult: 4, // 4 s suspicion at <= 10 nodes before confirmations
    suspicionMaxTimeoutMult: 6, // 24 s for a lone accuser at <= 10 nodes; 120 s at 10k
    pushPullIntervalMs: 30_000, // full sync is expensive: low frequency
    tcpTimeoutMs: 10_000,
    disableTcpPings: false, // TCP pings are safe with mixed versions
    awarenessMaxMultiplier: 8, // an unhealthy node backs off to one probe per 8 s
    gossipNodes: 3,
    gossipIntervalMs: 200, // gossip faster than we probe
    gossipToTheDeadTimeMs: 30_000, // same as push-pull
    reconnectIntervalMs: 30_000, // Serf's reconnect_interval
    reconnectTimeoutMs: 24 * 3600_000, // Serf's reconnect_timeout
    // 5x the 1,000 nodes the simulator runs (Caxton is sized for hundreds). At most ~2.5 KiB a member (a
    // 512-character name, 512 bytes of meta, its queued alive): ~12 MiB, and a push-pull of ~6 MiB.
    maxMembers: 5000,
    // One alive/suspect/dead per member (5,000) + the registry's 4,096 updates and 1,024 stamps: 10,120.
    // Each is at most one packet (1.4 KB), so at worst ~14 MiB.
    maxQueuedBroadcasts: 10_240,
    vsn: [...DEFAULT_VSN],
    lifeguard: { ...LIFEGUARD_ON },
  };
}

/** memberlist DefaultLocalConfig: loopback, where the RTT is tiny and nodes are few. */
export function localConfig(): MembershipConfig {
  return {
    ...lanConfig(),
    tcpTimeoutMs: 1000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullIntervalMs: 15_000,
    probeTimeoutMs: 200,
    probeIntervalMs: 1000,
    gossipIntervalMs: 100,
    gossipToTheDeadTimeMs: 15_000,
    reconnectIntervalMs: 10_000,
  };
}

/**
 * Caxton's default: a crashed node declared dead by every member within 5 s at <= 10 nodes (median < 3 s),
 * while a node that stops for 2 s (SIGSTOP, a long GC pause) and resumes is never declared dead, and
 * Lifeguard keeps false positives at zero. From the crash to everyone's "dead":
 *  - until someone probes it: each member probes one other per interval, so a given member receives about
 *    one probe per interval whatever the cluster size: Exp(0.4 s), P99 ~1.8 s (this tail, not the mean,
 *    is what the 5 s rule is about);
 *  - that probe round: ack timeout 200 ms, then indirect + TCP probes until the 400 ms interval ends;
 *  - suspicion: min = 5 * max(1, log10(n)) * 0.4 s = 2 s at <= 10 nodes, max = 3 * 2 s = 6 s; k = 5 - 2 = 3
 *    confirmations (other probers failing too, ~2.5 per second) shrink it to min;
 *  - the dead message then spreads by 100 ms gossip rounds and piggybacks: ~0.1-0.3 s for 10 nodes.
 * So ~0.4 + 0.4 + 2 + 0.1 = ~2.8 s typically and ~4 s at P99 (simulator, 250 crashes each at 5 and 10
 * nodes). The earliest possible death is 0.4 + 2 = 2.4 s after a node stops answering, which leaves a node
 * paused for 2 s time to hear the accusation and refute it. Shorter suspicion would break that; a longer
 * probe interval would push the first-probe tail past 5 s. False positives stay at zero because a false
 * suspicion needs the direct ping, three indirect pings and the TCP ping to fail in one round, and even then
 * the suspect hears it (buddy system, gossip, the direct answer to its accusers) and refutes within 2 s; an
 * unhealthy prober slows itself down (awareness) and its lone accusation waits 6 s.
 */
export function fastDetectConfig(): MembershipConfig {
  return {
    ...lanConfig(),
    probeIntervalMs: 400,
    probeTimeoutMs: 200, // still 100x a LAN RTT; GC pauses of a few ms stay well inside
    suspicionMult: 5,
    suspicionMaxTimeoutMult: 3,
    gossipIntervalMs: 100, // dead/alive news reaches 10 nodes in a few rounds
    pushPullIntervalMs: 15_000,
    gossipToTheDeadTimeMs: 15_000,
    reconnectIntervalMs: 5_000, // heal partitions within seconds
  };
}

export const PROFILES = { lan: lanConfig, local: localConfig, fastDetect: fastDetectConfig } as const;
export type ProfileName = keyof typeof PROFILES;

/** A profile's config with some fields overridden (lifeguard switches merged, not replaced). */
export function membershipConfig(
  profile: ProfileName = 'fastDetect',
  overrides: Partial<Omit<MembershipConfig, 'lifeguard'>> & { lifeguard?: Partial<LifeguardSwitches> } = {},
): MembershipConfig {
  const base = PROFILES[profile]();
  return { ...base, ...overrides, lifeguard: { ...base.lifeguard, ...overrides.lifeguard } };
}
