// Failure detection (memberlist state.go probe/probeNode, net.go handlePing/handleIndirectPing): ping one
// member per interval; if no ack within the probe timeout, ask k others to ping it (with nacks, Lifeguard)
// and try a TCP ping; if all fail by the end of the (health-scaled) interval, suspect it.
import { setAckHandler } from './ack-handlers.ts';
import { bytesToHost, isIpBytes } from './address.ts';
import type { Core } from './core.ts';
import { suspectNode } from './member-updates.ts';
import type { AckResp, IndirectPing, NackResp, Ping, Suspect } from './messages.ts';
import type { NodeRecord } from './node-table.ts';
import type { PeerAddress } from './transport.ts';

export class Prober {
  /** A probe round is running: ticks meanwhile are dropped (memberlist's ticker skips missed ticks). */
  private busy = false;

  constructor(private readonly core: Core) {}

  tick(): void {
    const { core } = this;
    if (this.busy || core.stopped) return;
    const node = core.table.nextProbeTarget(core.name, core.clock.now(), core.config.gossipToTheDeadTimeMs, () => {});
    if (!node) return;
    this.busy = true;
    this.probeNode(node, () => {
      this.busy = false;
    });
  }

  private probeNode(node: NodeRecord, done: () => void): void {
    const { core } = this;
    const { config } = core;
    const self = core.self();
    if (!self) return done();
    // Health scales the whole round (and so the probe rate), not the ack timeout: waiting longer does not
    // get UDP through, but a longer round gives the indirect and TCP probes more time.
    const interval = core.awareness.scaleTimeout(config.probeIntervalMs);
    const ping: Ping = {
      type: 'ping',
      seqNo: core.nextSeqNo(),
      node: node.name,
      sourceAddr: self.addr,
      sourcePort: self.port,
      sourceNode: core.name,
    };
    const target = core.addressOf(node);
    const incarnation = node.incarnation;
    const start = core.clock.now();
    let finished = false;
    let nacks = 0;
    let expectedNacks = 0;
    let fallback: Promise<boolean> | undefined;
    let indirectTimer: unknown;

    const finish = (awarenessDelta: number): void => {
      if (finished) return;
      finished = true;
      core.clock.clearTimer(indirectTimer);
      core.awareness.applyDelta(awarenessDelta);
      done();
    };
    const fail = (contacted: boolean): void => {
      if (finished || core.stopped) return finish(0);
      if (contacted) {
        core.logger.warn(`membership: reached ${node.name} over TCP but not UDP; the network may be misconfigured`);
        return finish(-1);
      }
      // With nack-capable helpers, missing nacks measure our own health; without, any failure counts.
      finish(expectedNacks > 0 ? Math.max(expectedNacks - nacks, 0) : 1);
      core.logger.info(`membership: suspect ${node.name} has failed, no acks received`);
      const suspect: Suspect = { type: 'suspect', incarnation, node: node.name, from: core.name };
      suspectNode(core, suspect);
    };

    setAckHandler(core, ping.seqNo, interval, {
      onAck: () => finish(-1),
      onNack: () => {
        nacks += 1;
      },
      onTimeout: () => {
        if (fallback) void fallback.then(fail, () => fail(false));
        else fail(false);
      },
    });

    // Buddy system: a suspect learns it is suspected from the very ping that checks it, and can refute.
    const buddy: Suspect | undefined =
      node.state !== 'alive' && config.lifeguard.buddySystem
        ? { type: 'suspect', incarnation: node.incarnation, node: node.name, from: core.name }
        : undefined;
    core.send(target, ping, buddy);

    indirectTimer = core.clock.setTimer(config.probeTimeoutMs, () => {
      if (finished || core.stopped) return;
      const helpers = core.table.kRandom(
        config.indirectChecks,
        (n) => n.name !== core.name && n.name !== node.name && n.state === 'alive',
      );
      for (const peer of helpers) {
        // Only peers speaking protocol >= 4 know nacks.
        const nack = config.lifeguard.nack && peer.vsn[1] >= 4;
        if (nack) expectedNacks += 1;
        const request: IndirectPing = {
          type: 'indirectPing',
          seqNo: ping.seqNo,
          target: node.addr,
          port: node.port,
          node: node.name,
          nack,
          sourceAddr: self.addr,
          sourcePort: self.port,
          sourceNode: core.name,
        };
        core.send(core.addressOf(peer), request);
      }
      // TCP fallback for peers speaking protocol >= 3: catches nodes cut off from UDP only.
      if (!config.disableTcpPings && node.vsn[1] >= 3) {
        const remaining = Math.max(start + interval - core.clock.now(), 1);
        fallback = core.transport.streamPing(target, ping, remaining).catch(() => false);
      }
    });
  }

  handlePing(from: PeerAddress, ping: Ping): void {
    const { core } = this;
    if (ping.node && ping.node !== core.name) return;
    const to = replyAddress(from, ping.sourceAddr, ping.sourcePort);
    if (!to) return;
    const ack: AckResp = { type: 'ackResp', seqNo: ping.seqNo, payload: new Uint8Array(0) };
    core.send(to, ack);
  }

  handleIndirectPing(from: PeerAddress, request: IndirectPing): void {
    const { core } = this;
    const self = core.self();
    if (!self) return;
    const requester = replyAddress(from, request.sourceAddr, request.sourcePort);
    // The wire codec refuses these already; a transport that hands over messages as objects may not.
    if (!requester || !isIpBytes(request.target)) return;
    const ping: Ping = {
      type: 'ping',
      seqNo: core.nextSeqNo(),
      node: request.node,
      sourceAddr: self.addr,
      sourcePort: self.port,
      sourceNode: core.name,
    };
    let answered = false;
    setAckHandler(core, ping.seqNo, core.config.probeTimeoutMs, {
      onAck: () => {
        answered = true;
        const ack: AckResp = { type: 'ackResp', seqNo: request.seqNo, payload: new Uint8Array(0) };
        core.send(requester, ack);
      },
    });
    core.send({ host: bytesToHost(request.target), port: request.port }, ping);
    if (request.nack) {
      core.clock.setTimer(core.config.probeTimeoutMs, () => {
        if (answered || core.stopped) return;
        const nack: NackResp = { type: 'nackResp', seqNo: request.seqNo };
        core.send(requester, nack);
      });
    }
  }
}

/** Where a ping's answer goes; undefined when its source address is no IP (never a name to resolve). */
function replyAddress(from: PeerAddress, sourceAddr: Uint8Array | undefined, sourcePort: number | undefined): PeerAddress | undefined {
  if (!sourceAddr || sourceAddr.length === 0 || !sourcePort) return from;
  return isIpBytes(sourceAddr) ? { host: bytesToHost(sourceAddr), port: sourcePort } : undefined;
}
