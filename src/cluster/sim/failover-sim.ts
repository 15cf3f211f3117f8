// Failover in virtual time: every node of a RegistrySim runs the same failover plan as the real node
// (placement/failover-plan.ts) over its own membership view, quorum and registry, and carries out what it
// says at once: a take-over publishes the agent as running here, a yield stops the copy here. The
// simulator records every action with the time and the side the node was on, so a schedule of crashes,
// partitions and loss can be checked: one owner per agent once the faults stop, the agents of dead nodes
// placed within 5 s of their death on the quorum side, no take-over on a side without quorum.
import type { MembershipConfig } from '../membership/config.ts';
import { needsConfirmation, planFailover, quorumConfirmed, takeOverMode } from '../placement/failover-plan.ts';
import { rendezvousOwner } from '../placement/rendezvous.ts';
import { QuorumTracker } from '../quorum.ts';
import type { AgentRecord } from '../registry/agent-record.ts';
import type { AgentRegistry } from '../registry/agent-registry.ts';
import { RegistrySim } from './registry-sim.ts';
import type { SimNode } from './sim-cluster.ts';
import { isLive } from '../membership/messages.ts';

export interface FailoverSimOptions {
  seed: number;
  config: () => MembershipConfig;
  lossRate?: number;
  /** How often each node runs the plan (the real node: on every change, and every failover.check_interval_ms). */
  checkIntervalMs?: number;
  /** Hand a member back from gone what a node wrote meanwhile, as the real node does (default true; false only to measure without it). */
  catchUpOnReturn?: boolean;
}


export interface FailoverEvent {
  time: number;
  node: string;
  kind: 'take-over' | 'yield' | 'reclaim' | 'claim';
  agent: string;
  /** take-over: the dead node; yield: the keeper; reclaim: the node the registry named. */
  other: string;
  /** Running nodes this node could exchange packets with both ways at that moment, itself included. */
  sideSize: number;
  /** The node's view then: member → state. */
  view?: string;
}

export class FailoverSim {
  readonly sim: RegistrySim;
  /** Agents each node runs. */
  readonly running = new Map<string, Set<string>>();
  readonly events: FailoverEvent[] = [];
  private readonly quorums = new Map<string, QuorumTracker>();
  /** Each node's last known state of every member: dead ones stay known after the core reaps them (as ClusterService.members()). */
  private readonly lastSeen = new Map<string, Map<string, string>>();
  private readonly checkIntervalMs: number;
  private readonly catchUpOnReturn: boolean;

  constructor(options: FailoverSimOptions) {
    this.sim = new RegistrySim({ seed: options.seed, config: options.config, lossRate: options.lossRate });
    this.checkIntervalMs = options.checkIntervalMs ?? 200;
    this.catchUpOnReturn = options.catchUpOnReturn ?? true;
  }

  get net() {
    return this.sim.cluster.net;
  }

  /** Grows the cluster to `size` nodes, waits for convergence, and starts every node's periodic check. */
  async start(size: number): Promise<void> {
    await this.sim.cluster.grow(size);
    const ok = await this.sim.cluster.runUntil(() => this.sim.cluster.converged(size), 60_000);
    if (ok === undefined) throw new Error('the simulated cluster did not converge');
    for (const node of this.sim.cluster.nodes) {
      this.running.set(node.name, new Set());
      this.quorums.set(node.name, new QuorumTracker(0));
      const tick = (): void => {
        this.check(node);
        this.net.schedule(node.host, this.checkIntervalMs, tick);
      };
      this.net.schedule(node.host, this.net.random() * this.checkIntervalMs, tick);
    }
  }

  /** Deploys an agent where placement puts it (the rendezvous owner among all nodes, or its pin). */
  deploy(name: string, options: { pinned?: string; failover?: 'move' | 'wait' } = {}): AgentRecord {
    const names = this.sim.cluster.running().map((n) => n.name);
    const node = options.pinned ?? (rendezvousOwner(name, names) as string);
    this.running.get(node)!.add(name);
    const record = recordOf(name, node, options);
    this.sim.registry(node).publish(record);
    return record;
  }

  /** The running nodes that run `name`. */
  holders(name: string): string[] {
    return this.sim.cluster
      .running()
      .filter((n) => this.running.get(n.name)!.has(name))
      .map((n) => n.name);
  }

  /** Running nodes `node` exchanges packets with both ways, itself included. */
  sideOf(node: SimNode): SimNode[] {
    const net = this.net;
    return this.sim.cluster.running().filter((other) => other === node || (net.canReach(node.host, other.host) && net.canReach(other.host, node.host)));
  }

  private readonly confirming = new Set<string>();

  /** The confirmation round of the real node (failover.ts): a quorum of round trips, then the take-overs. */
  private confirm(node: SimNode, quorum: number): void {
    if (this.confirming.has(node.name)) return;
    this.confirming.add(node.name);
    const peers = node.membership.members().filter((m) => m.state === 'alive' && m.name !== node.name);
    const pings = peers.map((m, i) =>
      node.host.transport.streamPing(
        { host: m.address, port: m.port },
        { type: 'ping', seqNo: 1_000_000 + i, node: m.name, sourceNode: node.name },
        CONFIRM_TIMEOUT_MS,
      ),
    );
    void Promise.all(pings).then((answers) => {
      this.confirming.delete(node.name);
      if (node.host.crashed) return;
      if (quorumConfirmed(answers.filter(Boolean).length, quorum)) this.check(node, true);
    });
  }

  /** Each node's registry Lamport time when it first saw each member suspect or gone, and whether gone since (failover-catch-up.ts #goneAtLamport). */
  private readonly goneMarks = new Map<string, Map<string, { lamport: number; gone: boolean }>>();
  /** Members back from gone each node still has to hand its writes since the mark (failover-catch-up.ts #catchUps). */
  private readonly catchUps = new Map<string, Map<string, number>>();

  /** The real node's memberChanged: a member back from gone is owed this node's writes since it went. */
  private noteReturn(self: string, member: string, now: string, registry: AgentRegistry): void {
    let marks = this.goneMarks.get(self);
    if (!marks) this.goneMarks.set(self, (marks = new Map()));
    let owed = this.catchUps.get(self);
    if (!owed) this.catchUps.set(self, (owed = new Map()));
    const gone = now === 'dead' || now === 'left';
    if (gone || now === 'suspect') {
      const mark = marks.get(member) ?? { lamport: registry.stats().lamport, gone: false };
      mark.gone ||= gone;
      marks.set(member, mark);
    } else if (now === 'alive' && marks.has(member)) {
      const mark = marks.get(member)!;
      if (mark.gone) owed.set(member, mark.lamport);
      marks.delete(member);
    }
  }

  /** failover.entries over a routing link: a round trip, so only between nodes that reach each other both ways. */
  private catchUp(node: SimNode): void {
    const owed = this.catchUps.get(node.name);
    if (!owed) return;
    for (const [member, since] of owed) {
      const peer = this.sim.cluster.byName.get(member);
      if (!peer || peer.host.crashed) {
        owed.delete(member);
        continue;
      }
      if (!this.net.canReach(node.host, peer.host) || !this.net.canReach(peer.host, node.host)) continue;
      owed.delete(member);
      const entries = this.sim.registry(node.name).ownUpdatesSince(since, 10_000);
      const gossip = this.sim.gossips.get(member)!;
      this.net.schedule(peer.host, CONFIRM_LINK_DELAY_MS, () => {
        for (const payload of entries) gossip.notifyMessage(payload);
      });
    }
  }

  private check(node: SimNode, confirmed = false): void {
    const members = node.membership.members();
    const quorum = this.quorums.get(node.name)!;
    const view = quorum.view(node.membership.liveMembers().length);
    let states = this.lastSeen.get(node.name);
    if (!states) this.lastSeen.set(node.name, (states = new Map()));
    const registry = this.sim.registry(node.name);
    for (const m of members) {
      if (this.catchUpOnReturn) this.noteReturn(node.name, m.name, m.state, registry);
      states.set(m.name, m.state);
    }
    const alive = members.filter((m) => isLive(m.state)).map((m) => m.name);
    const here = this.running.get(node.name)!;
    this.catchUp(node);
    const actions = planFailover({
      self: node.name,
      mode: takeOverMode(view, members.filter((m) => m.state === 'alive').length),
      alive,
      gone: (n) => states.get(n) === 'dead' || states.get(n) === 'left',
      records: registry.list(),
      runsHere: (name) => here.has(name),
    });
    if (!confirmed && actions.some(needsConfirmation)) this.confirm(node, view.quorum);
    for (const action of actions) {
      if (needsConfirmation(action) && !confirmed) continue;
      const time = this.net.now();
      const sideSize = this.sideOf(node).length;
      if (action.kind === 'take-over') {
        here.add(action.record.name);
        registry.publish({ ...action.record, node: node.name, state: 'running' });
        this.events.push({
          time,
          node: node.name,
          kind: 'take-over',
          agent: action.record.name,
          other: action.from,
          sideSize,
          view: members.map((m) => `${m.name}:${m.state}`).join(' '),
        });
      } else if (action.kind === 'yield') {
        here.delete(action.name);
        registry.disown(action.name);
        this.events.push({ time, node: node.name, kind: 'yield', agent: action.name, other: action.keeper, sideSize });
      } else {
        const record = registry.get(action.name);
        if (record) registry.publish({ ...record, node: node.name });
        this.events.push({ time, node: node.name, kind: action.kind, agent: action.name, other: action.other, sideSize });
      }
    }
  }
}

/** A ping-ack over a stream to every unsuspected member, in virtual time (the real node: failover.ping over its links). */
export const CONFIRM_TIMEOUT_MS = 500;
/** One way over a routing link in the simulator: what failover.entries takes to arrive. */
const CONFIRM_LINK_DELAY_MS = 5;

function recordOf(name: string, node: string, options: { pinned?: string; failover?: 'move' | 'wait' }): AgentRecord {
  const record: AgentRecord = {
    name,
    node,
    version: 1,
    module_sha256: 'ab'.repeat(32),
    capabilities: [],
    state: 'running',
    limits: { memory_pages: 16, fuel: 1_000_000, mailbox: 64 },
  };
  if (options.pinned !== undefined) record.pinned = options.pinned;
  if (options.failover !== undefined) record.failover = options.failover;
  return record;
}
