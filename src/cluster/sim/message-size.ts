// An estimate of memberlist's encoded size (type byte + msgpack map keyed by Go field names), close
// enough to fill packets and count gossip bytes in the simulator without encoding anything.
import type { PacketMessage, PushPull } from '../membership/messages.ts';

const str = (s: string): number => s.length + (s.length < 32 ? 1 : 2);
const bin = (b: Uint8Array | undefined): number => (b ? b.length + 2 : 1);
const uint = (n: number): number => (n < 128 ? 1 : n < 65536 ? 3 : 5);
const field = (key: string, valueBytes: number): number => str(key) + valueBytes;

export function estimateMessageSize(m: PacketMessage): number {
  switch (m.type) {
    case 'ping':
      return 2 + field('SeqNo', uint(m.seqNo)) + field('Node', str(m.node)) + field('SourceAddr', bin(m.sourceAddr)) +
        field('SourcePort', uint(m.sourcePort ?? 0)) + field('SourceNode', str(m.sourceNode ?? ''));
    case 'indirectPing':
      return 2 + field('SeqNo', uint(m.seqNo)) + field('Target', bin(m.target)) + field('Port', uint(m.port)) +
        field('Node', str(m.node)) + field('Nack', 1) + field('SourceAddr', bin(m.sourceAddr)) +
        field('SourcePort', uint(m.sourcePort ?? 0)) + field('SourceNode', str(m.sourceNode ?? ''));
    case 'ackResp':
      return 2 + field('SeqNo', uint(m.seqNo)) + field('Payload', bin(m.payload));
    case 'nackResp':
      return 2 + field('SeqNo', uint(m.seqNo));
    case 'err':
      return 2 + field('Error', str(m.error));
    case 'suspect':
      return 2 + field('Incarnation', uint(m.incarnation)) + field('Node', str(m.node)) + field('From', str(m.from));
    case 'dead':
      return 2 + field('Incarnation', uint(m.incarnation)) + field('Node', str(m.node)) + field('From', str(m.from));
    case 'alive':
      return 2 + field('Incarnation', uint(m.incarnation)) + field('Node', str(m.node)) + field('Addr', bin(m.addr)) +
        field('Port', uint(m.port)) + field('Meta', bin(m.meta)) + field('Vsn', 8);
    case 'user':
      return 1 + m.payload.length;
  }
}

export function estimatePushPullSize(p: PushPull): number {
  let size = 16 + p.userState.length;
  for (const n of p.nodes) size += 60 + n.name.length + n.addr.length + n.meta.length;
  return size;
}
