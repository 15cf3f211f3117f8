// What the cluster routes need and NodeServices (src/node/services.ts) does not offer: an extension the
// node implements beside NodeServices and passes to buildApi as `cluster`.

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** One row of GET /api/v1/cluster/members (interfaces.md). */
export interface ClusterMemberView {
  id: string;
  address: string;
  state: MemberState;
  /** Agents this member runs. */
  agents: number;
  version: string;
  /** Placement skips it (`caxton node drain`, a leave in progress); absent for a member that is not. */
  draining?: boolean;
  /** Its REST API address (its `api` tag), for tools that drive each node (`cluster upgrade`). */
  api?: string;
  /** When its process started (ms since the epoch, its `started` tag): a restart changes it. */
  started_at?: number;
  /** Its routing protocol version (its `proto` tag). */
  protocol?: number;
}

/** What a drain did (POST /api/v1/node/drain, /api/v1/cluster/leave), as `caxton node drain` and `cluster leave` print it. */
export interface DrainReportView {
  node: string;
  /** Agents now running on another node. */
  moved: number;
  /** Where each moved agent went (agent → node). */
  owners: Record<string, string>;
  /** Agents pinned to this node: not moved (they stop with a leave, and come back with the node). */
  pinned: string[];
  /** Agents that could not be handed over, with why (they keep running here). */
  failed: { agent: string; error: string }[];
  /** Queued messages forwarded to the new owners at the switch. */
  forwarded: number;
  /** Queued messages that could not be forwarded (their senders got a failure). */
  undeliverable: number;
  duration_ms: number;
}

/** GET /api/v1/cluster/status (interfaces.md). */
export interface ClusterStatusView {
  health: 'healthy' | 'degraded';
  mode: 'read-write' | 'read-only';
  alive: number;
  expected: number;
  quorum: number;
  /** Agents known cluster-wide (the agent registry; this node's alone without gossip). */
  agents?: number;
}

/** One live figure next to its target, for `caxton cluster performance`. */
export interface PerformanceFigure {
  /** e.g. routing_latency_p99, throughput, agent_startup_p50, convergence. */
  name: string;
  /** null while there is nothing measured yet. */
  value: number | null;
  unit: string;
  /** The target as people read it, e.g. "< 1 ms". */
  target: string;
  /** How the value was measured (what is sampled, over which window), when that is not obvious. */
  note?: string;
}

/** One node's figures for `caxton cluster performance --all`; `error` when it did not answer. */
export interface NodePerformance {
  node: string;
  figures: PerformanceFigure[];
  error?: string;
}

/** `caxton security keys install|use|remove|list`, as `serf keys`. */
export type GossipKeyOp = 'install' | 'use' | 'remove' | 'list';

/** What a gossip-key operation did across the cluster. */
export interface GossipKeyReport {
  op: GossipKeyOp;
  /** Live Caxton members asked, the answering node included. */
  members: number;
  /** How many of them applied it. */
  applied: number;
  failed: { node: string; error: string }[];
  /** Live members that are not Caxton nodes (Serf agents): they keep their own keyring. */
  skipped: string[];
  /** For list: each key (base64) with how many members have it installed and as primary. */
  keys?: { key: string; installed: number; primary: number }[];
}

export interface ClusterServices {
  clusterMembers(): ClusterMemberView[];
  clusterStatus(): ClusterStatusView;
  clusterPerformance(): PerformanceFigure[];
  /** Every live node's figures, this node's first (over the routing links); absent: this node's only. */
  clusterPerformanceAll?(): Promise<NodePerformance[]>;
  /** Gossip keyring management; absent on a node without gossip (routes answer 503). */
  gossipKeys?(op: GossipKeyOp, key?: string): Promise<GossipKeyReport>;
  /** A one-line join token (`caxton cluster token`); only a node holding the cluster CA makes one. */
  clusterJoinToken?(): string;
  /** Hands this node's agents (or, with `node`, that member's) to their new owners; the node stays a member. */
  drainNode?(node?: string): Promise<DrainReportView>;
  /** Placement may choose the node again. */
  undrainNode?(node?: string): Promise<{ node: string; draining: false }>;
  /** Drain, then leave the cluster and stop this node once the answer is sent. */
  leaveCluster?(): Promise<DrainReportView>;
}
