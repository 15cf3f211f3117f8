// Many Membership nodes on one SimNetwork, with an observer that records who declared whom dead and
// when, and how many live members each node sees: what the tests and the benchmark measure.
import type { MembershipConfig } from '../membership/config.ts';
import type { Delegate } from '../membership/delegate.ts';
import type { Member } from '../membership/member.ts';
import { Membership } from '../membership/memberlist.ts';
import type { NodeState } from '../membership/messages.ts';
import { isLive } from '../membership/messages.ts';
import { SimNetwork, type LatencyModel, type SimHost } from './sim-network.ts';

export interface SimNode {
  readonly name: string;
  readonly host: SimHost;
  readonly membership: Membership;
  /** Members this node sees alive or suspect (itself included). */
  live: number;
}

export interface DeathRecord {
  observer: string;
  target: string;
  state: NodeState;
  time: number;
}

export interface SimClusterOptions {
  seed: number;
  config: () => MembershipConfig;
  latency?: LatencyModel;
  lossRate?: number;
  /** The user-message / push-pull delegate of each node, if the test needs one. */
  delegate?: (name: string) => Delegate;
}

export class SimCluster {
  readonly net: SimNetwork;
  readonly nodes: SimNode[] = [];
  readonly byName = new Map<string, SimNode>();
  readonly deaths: DeathRecord[] = [];
  /** Per target: how many observers currently see it dead or left. */
  private readonly deadCount = new Map<string, number>();
  private readonly config: () => MembershipConfig;
  private readonly delegate: ((name: string) => Delegate) | undefined;

  constructor(options: SimClusterOptions) {
    this.delegate = options.delegate;
    this.net = new SimNetwork({ seed: options.seed, latency: options.latency, lossRate: options.lossRate });
    this.config = options.config;
  }

  /** Adds and starts a node (not yet joined). */
  addNode(name = `node-${this.nodes.length}`): SimNode {
    const host = this.net.addHost();
    const node = { name, host, live: 0 } as SimNode;
    (node as { membership: Membership }).membership = new Membership({
      config: this.config(),
      name,
      meta: new TextEncoder().encode(`caxton ${name}`),
      transport: host.transport,
      clock: host.clock,
      random: host.random,
      delegate: this.delegate?.(name),
      events: { onStateChange: (member, previous) => this.observe(node, member, previous) },
    });
    this.nodes.push(node);
    this.byName.set(name, node);
    node.membership.start();
    return node;
  }

  /** Adds `count` nodes (the first one is the seed when the cluster is empty), each joining through the first node; resolves when every join answered. */
  async grow(count: number, spreadMs = 0): Promise<void> {
    const hadSeed = this.nodes.length > 0;
    const seed = this.nodes[0] ?? this.addNode();
    const joins: Promise<number>[] = [];
    for (let i = 0; i < (hadSeed ? count : count - 1); i++) {
      const node = this.addNode();
      const delay = spreadMs > 0 ? this.net.random() * spreadMs : 0;
      joins.push(
        new Promise<number>((resolve, reject) => {
          this.net.schedule(node.host, delay, () => {
            node.membership.join([seed.host.address]).then(resolve, reject);
          });
        }),
      );
    }
    let done = false;
    const all = Promise.all(joins).finally(() => {
      done = true;
    });
    await this.net.runFor(spreadMs + 60_000, () => done);
    await all;
  }

  /** True when every running node sees exactly `expected` live members. */
  converged(expected: number): boolean {
    return this.nodes.every((n) => n.host.crashed || n.membership === undefined || n.live === expected);
  }

  /** Runs until `pred` holds (checked after each event) or `maxMs` passes; returns the time it took. */
  async runUntil(pred: () => boolean, maxMs: number, checkEveryMs?: number): Promise<number | undefined> {
    const start = this.net.now();
    const ok = await this.net.runFor(maxMs, pred, checkEveryMs);
    return ok ? this.net.now() - start : undefined;
  }

  /** How many running nodes other than the target see it dead or left. */
  seenDeadBy(target: string): number {
    return this.deadCount.get(target) ?? 0;
  }

  running(): SimNode[] {
    return this.nodes.filter((n) => !n.host.crashed);
  }

  private observe(node: SimNode, member: Member, previous: NodeState | undefined): void {
    const wasLive = previous !== undefined && isLive(previous);
    const nowLive = isLive(member.state);
    if (wasLive && !nowLive) node.live -= 1;
    if (!wasLive && nowLive) node.live += 1;
    const wasDead = previous === 'dead' || previous === 'left';
    const isDead = member.state === 'dead' || member.state === 'left';
    if (!wasDead && isDead) {
      this.deadCount.set(member.name, (this.deadCount.get(member.name) ?? 0) + 1);
      this.deaths.push({ observer: node.name, target: member.name, state: member.state, time: this.net.now() });
    }
    if (wasDead && !isDead) this.deadCount.set(member.name, (this.deadCount.get(member.name) ?? 0) - 1);
  }
}
