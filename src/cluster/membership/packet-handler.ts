// Inbound messages to the part of the core that handles them (memberlist net.go handleCommand).
import { invokeAckHandler, invokeNackHandler } from './ack-handlers.ts';
import type { Core } from './core.ts';
import { aliveNode, answerAccuser, deadNode, suspectNode } from './member-updates.ts';
import type { AckResp, PacketMessage } from './messages.ts';
import type { Prober } from './probe.ts';
import type { PeerAddress } from './transport.ts';

export function handlePacket(core: Core, prober: Prober, from: PeerAddress, message: PacketMessage): void {
  if (core.stopped) return;
  switch (message.type) {
    case 'ping':
      return prober.handlePing(from, message);
    case 'indirectPing':
      return prober.handleIndirectPing(from, message);
    case 'ackResp':
      return invokeAckHandler(core, message.seqNo);
    case 'nackResp':
      return invokeNackHandler(core, message.seqNo);
    case 'suspect':
      suspectNode(core, message);
      return answerAccuser(core, from, message);
    case 'alive':
      return aliveNode(core, message, false);
    case 'dead':
      deadNode(core, message);
      return answerAccuser(core, from, message);
    case 'user':
      return core.notify('notifyMessage', () => core.delegate.notifyMessage?.(message.payload));
    case 'err':
      return core.warnLimited(`err:${from.host}`, `membership: peer ${from.host}:${from.port} reported an error: ${message.error.slice(0, 200)}`);
  }
}

/** A message over a stream: a TCP ping gets its ack, a user message goes to the delegate. */
export function handleStreamMessage(core: Core, from: PeerAddress, message: PacketMessage): PacketMessage | undefined {
  if (core.stopped) return undefined;
  if (message.type === 'ping') {
    if (message.node && message.node !== core.name) return undefined;
    const ack: AckResp = { type: 'ackResp', seqNo: message.seqNo, payload: new Uint8Array(0) };
    return ack;
  }
  // A stream's source is an ephemeral TCP port: nothing to answer an accusation to.
  if (message.type === 'suspect') suspectNode(core, message);
  else if (message.type === 'dead') deadNode(core, message);
  else handlePacket(core, noProber, from, message);
  return undefined;
}

// Pings and indirect pings over a stream are answered above; nothing else needs the prober there.
const noProber = { handlePing() {}, handleIndirectPing() {} } as unknown as Prober;
