// The members we know and the order we probe them in (memberlist's nodes slice + nodeMap): new members go
// to a random position, the list is reshuffled each full probe round, and dead and left ones are reaped then.
import { randomOffset, type Random } from './clock.ts';
import type { Member } from './member.ts';
import type { NodeState, Vsn } from './messages.ts';

export interface NodeRecord {
  name: string;
  addr: Uint8Array;
  host: string;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeState;
  /** Clock time of the last state change (reaping and gossip-to-the-dead use it). */
  stateChange: number;
  vsn: Vsn;
}

export function toMember(node: NodeRecord): Member {
  return {
    name: node.name,
    address: node.host,
    port: node.port,
    meta: node.meta,
    state: node.state,
    incarnation: node.incarnation,
    vsn: [...node.vsn] as Vsn,
  };
}

export function isDeadOrLeft(node: NodeRecord): boolean {
  return node.state === 'dead' || node.state === 'left';
}

export class NodeTable {
  readonly nodes: NodeRecord[] = [];
  private readonly byName = new Map<string, NodeRecord>();
  private probeIndex = 0;

  constructor(private readonly random: Random) {}

  get size(): number {
    return this.nodes.length;
  }

  get(name: string): NodeRecord | undefined {
    return this.byName.get(name);
  }

  /** Inserts at a random position so that probe order is not join order. */
  add(node: NodeRecord): void {
    this.byName.set(node.name, node);
    const n = this.nodes.length;
    const offset = randomOffset(this.random, n);
    this.nodes.push(node);
    [this.nodes[offset], this.nodes[n]] = [this.nodes[n], this.nodes[offset]];
  }

  /**
   * The next member to probe, skipping ourselves and dead/left members; at the end of the list,
   * reaps members dead or left for longer than `gossipToTheDeadMs` and reshuffles (memberlist resetNodes).
   */
  nextProbeTarget(self: string, now: number, gossipToTheDeadMs: number, onReap: (node: NodeRecord) => void): NodeRecord | undefined {
    for (let checked = 0; checked < this.nodes.length; checked++) {
      if (this.probeIndex >= this.nodes.length) {
        this.reapAndShuffle(self, now, gossipToTheDeadMs, onReap);
        this.probeIndex = 0;
        if (this.nodes.length === 0) return undefined;
      }
      const node = this.nodes[this.probeIndex++];
      if (node.name === self || isDeadOrLeft(node)) continue;
      return node;
    }
    return undefined;
  }

  /** Up to k distinct random members passing `accept` (memberlist kRandomNodes: at most 3n tries). */
  kRandom(k: number, accept: (node: NodeRecord) => boolean): NodeRecord[] {
    const n = this.nodes.length;
    const out: NodeRecord[] = [];
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const node = this.nodes[randomOffset(this.random, n)];
      if (!accept(node) || out.includes(node)) continue;
      out.push(node);
    }
    return out;
  }

  private reapAndShuffle(self: string, now: number, gossipToTheDeadMs: number, onReap: (node: NodeRecord) => void): void {
    // Left members too, as memberlist's moveDeadNodes: kept forever, a peer could fill the table with
    // names that joined and left. The layer above lists them on (cluster-service lastSeen). Never ourselves:
    // after leave() we still answer pings until shutdown, and localNode must hold.
    let kept = 0;
    for (const node of this.nodes) {
      if (isDeadOrLeft(node) && node.name !== self && now - node.stateChange > gossipToTheDeadMs) {
        this.byName.delete(node.name);
        onReap(node);
      } else {
        this.nodes[kept++] = node;
      }
    }
    this.nodes.length = kept;
    for (let i = kept - 1; i > 0; i--) {
      const j = randomOffset(this.random, i + 1);
      [this.nodes[i], this.nodes[j]] = [this.nodes[j], this.nodes[i]];
    }
  }
}
