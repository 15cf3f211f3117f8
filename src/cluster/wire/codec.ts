// One memberlist message ⇄ its bytes: the messageType byte, then the Go struct as go-msgpack writes it
// (net.go: encode/decode). Keys are written in the sorted order go-msgpack uses for struct maps, so our
// bytes equal memberlist's byte for byte. A user message is the type byte and the raw payload.
import { isIpBytes } from '../membership/address.ts';
import { type IndirectPing, MessageType, type NodeState, NodeStateCode, type PacketMessage, type Ping, type Vsn } from '../membership/messages.ts';
import {
  fieldBool,
  fieldBytes,
  fieldString,
  fieldUint,
  type MsgpackMap,
  MsgpackReader,
  MsgpackWriter,
  readStruct,
} from './msgpack.ts';

const U16 = 0xffff;
const U32 = 0xffffffff;

export function writeMessageBody(w: MsgpackWriter, m: PacketMessage): void {
  switch (m.type) {
    case 'ping': {
      // ping{SeqNo, Node, SourceAddr,omitempty, SourcePort,omitempty, SourceNode,omitempty}
      const hasAddr = !!m.sourceAddr && m.sourceAddr.length > 0;
      const hasNode = !!m.sourceNode;
      const hasPort = !!m.sourcePort;
      w.mapHeader(2 + Number(hasAddr) + Number(hasNode) + Number(hasPort));
      w.str('Node').str(m.node).str('SeqNo').uint(m.seqNo);
      if (hasAddr) w.str('SourceAddr').bytes(m.sourceAddr);
      if (hasNode) w.str('SourceNode').str(m.sourceNode!);
      if (hasPort) w.str('SourcePort').uint(m.sourcePort!);
      return;
    }
    case 'indirectPing': {
      const hasAddr = !!m.sourceAddr && m.sourceAddr.length > 0;
      const hasNode = !!m.sourceNode;
      const hasPort = !!m.sourcePort;
      w.mapHeader(5 + Number(hasAddr) + Number(hasNode) + Number(hasPort));
      w.str('Nack').bool(m.nack).str('Node').str(m.node).str('Port').uint(m.port).str('SeqNo').uint(m.seqNo);
      if (hasAddr) w.str('SourceAddr').bytes(m.sourceAddr);
      if (hasNode) w.str('SourceNode').str(m.sourceNode!);
      if (hasPort) w.str('SourcePort').uint(m.sourcePort!);
      w.str('Target').bytes(m.target);
      return;
    }
    case 'ackResp':
      w.mapHeader(2).str('Payload').bytes(m.payload).str('SeqNo').uint(m.seqNo);
      return;
    case 'nackResp':
      w.mapHeader(1).str('SeqNo').uint(m.seqNo);
      return;
    case 'err':
      w.mapHeader(1).str('Error').str(m.error);
      return;
    case 'suspect':
    case 'dead':
      w.mapHeader(3).str('From').str(m.from).str('Incarnation').uint(m.incarnation).str('Node').str(m.node);
      return;
    case 'alive':
      w.mapHeader(6)
        .str('Addr')
        .bytes(m.addr)
        .str('Incarnation')
        .uint(m.incarnation)
        .str('Meta')
        .bytes(m.meta)
        .str('Node')
        .str(m.node)
        .str('Port')
        .uint(m.port)
        .str('Vsn')
        .bytes(Uint8Array.from(m.vsn));
      return;
    case 'user':
      w.raw(m.payload);
      return;
  }
}

/** The bytes memberlist's encode(msgType, msg) produces. */
export function encodeMessage(m: PacketMessage): Uint8Array {
  const w = new MsgpackWriter(m.type === 'user' ? m.payload.length + 1 : 64);
  w.byte(MessageType[m.type]);
  writeMessageBody(w, m);
  return w.finish();
}

export function readVsn(m: MsgpackMap, name: string): Vsn {
  const raw = fieldBytes(m, name);
  // Pre-versioned peers send none: memberlist then treats every version as 0.
  const v: Vsn = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 6 && i < raw.length; i++) v[i] = raw[i];
  return v;
}

const STATE_BY_CODE: NodeState[] = ['alive', 'suspect', 'dead', 'left'];

export function nodeStateFromCode(code: number): NodeState | undefined {
  return STATE_BY_CODE[code];
}

export function nodeStateCode(state: NodeState): number {
  return NodeStateCode[state];
}

/**
 * An address field: memberlist sends a net.IP, 4 or 16 bytes. Any other bytes would become a host name that
 * sending to resolves, making a peer's datagram a DNS query of its choosing.
 */
function ipField(m: MsgpackMap, name: string): Uint8Array {
  const bytes = fieldBytes(m, name);
  if (!isIpBytes(bytes)) throw new RangeError(`${name}: ${bytes.length} bytes, not an IPv4 or IPv6 address`);
  return bytes;
}

/** The optional SourceAddr/SourcePort/SourceNode of pings (memberlist omits them when empty). */
function withSource<T extends Ping | IndirectPing>(message: T, m: MsgpackMap): T {
  if (fieldBytes(m, 'SourceAddr').length > 0) message.sourceAddr = ipField(m, 'SourceAddr');
  const sourcePort = fieldUint(m, 'SourcePort', U16);
  if (sourcePort) message.sourcePort = sourcePort;
  const sourceNode = fieldString(m, 'SourceNode');
  if (sourceNode) message.sourceNode = sourceNode;
  return message;
}

/** Decodes the msgpack body of a message of a known type; throws on malformed input. */
export function decodeMessageBody(type: number, body: Uint8Array): PacketMessage | undefined {
  if (type === MessageType.user) return { type: 'user', payload: body.slice() };
  const read = (): MsgpackMap => readStruct(new MsgpackReader(body).read(), 'message');
  switch (type) {
    case MessageType.ping: {
      const m = read();
      return withSource({ type: 'ping', seqNo: fieldUint(m, 'SeqNo', U32), node: fieldString(m, 'Node') }, m);
    }
    case MessageType.indirectPing: {
      const m = read();
      const ind: IndirectPing = {
        type: 'indirectPing',
        seqNo: fieldUint(m, 'SeqNo', U32),
        target: ipField(m, 'Target'),
        port: fieldUint(m, 'Port', U16),
        node: fieldString(m, 'Node'),
        nack: fieldBool(m, 'Nack'),
      };
      return withSource(ind, m);
    }
    case MessageType.ackResp: {
      const m = read();
      return { type: 'ackResp', seqNo: fieldUint(m, 'SeqNo', U32), payload: fieldBytes(m, 'Payload') };
    }
    case MessageType.nackResp:
      return { type: 'nackResp', seqNo: fieldUint(read(), 'SeqNo', U32) };
    case MessageType.err:
      return { type: 'err', error: fieldString(read(), 'Error') };
    case MessageType.suspect:
    case MessageType.dead: {
      const m = read();
      const fields = { incarnation: fieldUint(m, 'Incarnation', U32), node: fieldString(m, 'Node'), from: fieldString(m, 'From') };
      return type === MessageType.suspect ? { type: 'suspect', ...fields } : { type: 'dead', ...fields };
    }
    case MessageType.alive: {
      const m = read();
      return {
        type: 'alive',
        incarnation: fieldUint(m, 'Incarnation', U32),
        node: fieldString(m, 'Node'),
        addr: ipField(m, 'Addr'),
        port: fieldUint(m, 'Port', U16),
        meta: fieldBytes(m, 'Meta'),
        vsn: readVsn(m, 'Vsn'),
      };
    }
    default:
      return undefined;
  }
}

/**
 * One message with its leading type byte. Returns undefined for a type that is not a plain message
 * (unknown, or a wrapper such as compound/compress that the packet layer unwraps).
 */
export function decodeMessage(bytes: Uint8Array): PacketMessage | undefined {
  if (bytes.length === 0) return undefined;
  return decodeMessageBody(bytes[0], bytes.subarray(1));
}
