// The agent registry on every node of a SimCluster: the same AgentRegistry and RegistryGossip the node
// runs, plugged into each simulated membership as its delegate, in virtual time. What the registry tests
// and bench/registry-convergence.ts measure: how long until an update is known on every running node, seen
// from outside, beside what each node measured itself from the writes' stamps (convergenceSamples).
import type { MembershipConfig } from '../membership/config.ts';
import { AgentRegistry } from '../registry/agent-registry.ts';
import { RegistryGossip } from '../registry/registry-gossip.ts';
import { SimCluster } from './sim-cluster.ts';

export interface RegistrySimOptions {
  seed: number;
  config: () => MembershipConfig;
  lossRate?: number;
  maxRecords?: number;
}

export class RegistrySim {
  readonly cluster: SimCluster;
  readonly registries = new Map<string, AgentRegistry>();
  readonly gossips = new Map<string, RegistryGossip>();
  /** Every convergence sample a node took (virtual ms from a write to that node learning it), in order. */
  readonly convergenceSamples: { node: string; ms: number }[] = [];

  constructor(options: RegistrySimOptions) {
    this.cluster = new SimCluster({
      seed: options.seed,
      config: options.config,
      lossRate: options.lossRate,
      delegate: (name) => {
        const registry = new AgentRegistry({
          nodeId: name,
          now: () => this.cluster.net.now(),
          maxRecords: options.maxRecords ?? 150_000,
          tombstoneTtlMs: 24 * 3600_000,
        });
        const gossip = new RegistryGossip(registry, () => this.cluster.byName.get(name)?.membership, {}, () => this.cluster.net.now());
        gossip.onConvergence((ms) => this.convergenceSamples.push({ node: name, ms }));
        this.registries.set(name, registry);
        this.gossips.set(name, gossip);
        return {
          notifyMessage: (payload) => void gossip.notifyMessage(payload),
          localState: () => gossip.localState(),
          mergeRemoteState: (state) => gossip.mergeRemoteState(state),
        };
      },
    });
  }

  registry(name: string): AgentRegistry {
    const r = this.registries.get(name);
    if (!r) throw new Error(`no node ${name}`);
    return r;
  }

  /** How many running nodes hold `check` true of their registry. */
  count(check: (registry: AgentRegistry) => boolean): number {
    let n = 0;
    for (const node of this.cluster.running()) if (check(this.registry(node.name))) n += 1;
    return n;
  }

  /** Virtual ms until every running node's registry passes `check`, or undefined after maxMs. */
  runUntilAll(check: (registry: AgentRegistry) => boolean, maxMs: number): Promise<number | undefined> {
    const running = this.cluster.running().length;
    return this.cluster.runUntil(() => this.count(check) === running, maxMs, 5);
  }
}
