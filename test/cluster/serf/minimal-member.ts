// The least membership that lets a stock Serf agent count us as alive, over the real NetTransport: join
// by push-pull, announce ourselves, answer pings (UDP and TCP) and refute suspicion. Only for interop
// tests until the SWIM core (src/cluster/membership) runs on NetTransport; it has no failure detection.
import { bytesToHost, hostToBytes } from '../../../src/cluster/membership/address.ts';
import type { Alive, PacketMessage, PushNodeState, PushPull, Vsn } from '../../../src/cluster/membership/messages.ts';
import type { PeerAddress } from '../../../src/cluster/membership/transport.ts';
import type { NetTransport } from '../../../src/cluster/transport/net-transport.ts';
import { MsgpackWriter } from '../../../src/cluster/wire/msgpack.ts';

/** Serf's tag encoding in memberlist Meta: 0xff then a msgpack map of strings (else Serf reads a role). */
export function serfTags(tags: Record<string, string>): Uint8Array {
  const w = new MsgpackWriter();
  w.byte(0xff).mapHeader(Object.keys(tags).length);
  for (const [k, v] of Object.entries(tags)) w.str(k).str(v);
  return w.finish();
}

export class MinimalMember {
  incarnation = 1;
  readonly known = new Map<string, PushNodeState>();
  readonly userMessages: Uint8Array[] = [];
  readonly remoteUserStates: Uint8Array[] = [];
  readonly counts = { udpPingsAnswered: 0, streamPingsAnswered: 0, pushPullsAnswered: 0, refutations: 0, packets: 0 };
  /** Off: UDP pings go unanswered, so peers must fall back to memberlist's TCP ping. */
  answerUdpPings = true;
  /** What we send as the user state of push-pull (Serf's is opaque to us). */
  userState: Uint8Array = new Uint8Array(0);

  constructor(
    readonly transport: NetTransport,
    readonly name: string,
    readonly meta: Uint8Array,
    readonly vsn: Vsn,
  ) {
    transport.onPackets((from, messages) => {
      this.counts.packets++;
      for (const m of messages) this.handle(from, m);
    });
    transport.onPushPull((_from, remote) => {
      this.merge(remote);
      this.counts.pushPullsAnswered++;
      return this.localState(false);
    });
    transport.onStreamMessage((_from, m) => {
      if (m.type === 'user') this.userMessages.push(m.payload);
      if (m.type !== 'ping' || (m.node !== '' && m.node !== this.name)) return undefined;
      this.counts.streamPingsAnswered++;
      return { type: 'ackResp', seqNo: m.seqNo, payload: new Uint8Array(0) };
    });
  }

  self(): PushNodeState {
    const { host, port } = this.transport.localAddress;
    return { name: this.name, addr: hostToBytes(host), port, meta: this.meta, incarnation: this.incarnation, state: 'alive', vsn: this.vsn };
  }

  aliveMessage(): Alive {
    const s = this.self();
    return { type: 'alive', incarnation: s.incarnation, node: s.name, addr: s.addr, port: s.port, meta: s.meta, vsn: s.vsn };
  }

  localState(join: boolean): PushPull {
    return { join, nodes: [this.self(), ...this.known.values()], userState: this.userState };
  }

  /** memberlist's Join: a push-pull with join=true, then our alive message by UDP. */
  async join(peer: PeerAddress, timeoutMs = 5000): Promise<PushPull> {
    const remote = await this.transport.pushPull(peer, this.localState(true), timeoutMs);
    this.merge(remote);
    this.transport.sendPackets(peer, [this.aliveMessage()]);
    return remote;
  }

  addressOf(name: string): PeerAddress | undefined {
    const n = this.known.get(name);
    return n && { host: bytesToHost(n.addr), port: n.port };
  }

  private merge(remote: PushPull): void {
    if (remote.userState.length > 0) this.remoteUserStates.push(remote.userState);
    for (const n of remote.nodes) {
      if (n.name === this.name) {
        if (n.state !== 'alive' && n.incarnation >= this.incarnation) this.refute(n.incarnation);
        continue;
      }
      const old = this.known.get(n.name);
      if (!old || n.incarnation > old.incarnation || (n.incarnation === old.incarnation && n.state !== old.state)) this.known.set(n.name, n);
    }
  }

  private refute(incarnation: number): void {
    this.incarnation = incarnation + 1;
    this.counts.refutations++;
    for (const name of this.known.keys()) {
      const to = this.addressOf(name);
      if (to) this.transport.sendPackets(to, [this.aliveMessage()]);
    }
  }

  private handle(from: PeerAddress, m: PacketMessage): void {
    switch (m.type) {
      case 'ping': {
        if ((m.node !== '' && m.node !== this.name) || !this.answerUdpPings) return;
        // memberlist answers to the source the ping names, else to the datagram's sender.
        const to = m.sourceAddr && m.sourcePort ? { host: bytesToHost(m.sourceAddr), port: m.sourcePort } : from;
        this.counts.udpPingsAnswered++;
        this.transport.sendPackets(to, [{ type: 'ackResp', seqNo: m.seqNo, payload: new Uint8Array(0) }]);
        return;
      }
      case 'alive':
        this.merge({ join: false, nodes: [{ name: m.node, addr: m.addr, port: m.port, meta: m.meta, incarnation: m.incarnation, state: 'alive', vsn: m.vsn }], userState: new Uint8Array(0) });
        return;
      case 'suspect':
      case 'dead': {
        if (m.node === this.name) {
          if (m.incarnation >= this.incarnation) this.refute(m.incarnation);
          return;
        }
        const old = this.known.get(m.node);
        if (old && m.incarnation >= old.incarnation) {
          const state = m.type === 'suspect' ? 'suspect' : m.from === m.node ? 'left' : 'dead';
          this.known.set(m.node, { ...old, incarnation: m.incarnation, state });
        }
        return;
      }
      case 'user':
        this.userMessages.push(m.payload);
        return;
      default:
        return;
    }
  }
}
