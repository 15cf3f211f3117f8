// The bodies memberlist sends over streams (net.go sendLocalState/readRemoteState, sendUserMsg/readUserMsg):
//   push-pull: [6] pushPullHeader{Join, Nodes, UserStateLen} pushNodeState × Nodes, then UserStateLen raw bytes
//   user:      [8] userMsgHeader{UserMsgLen}, then UserMsgLen raw bytes
// The user state is the delegate's (Serf's or Caxton's) and stays opaque bytes here.
import { MessageType, type PushNodeState, type PushPull } from '../membership/messages.ts';
import { nodeStateCode, nodeStateFromCode, readVsn } from './codec.ts';
import { fieldBool, fieldBytes, fieldInt, fieldString, fieldUint, MsgpackError, type MsgpackReader, MsgpackWriter, readStruct } from './msgpack.ts';

/** memberlist's maxPushStateBytes: a peer may not make us buffer more than this. */
export const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;

/**
 * Node states one push-pull may carry; a node passes gossip.max_members, this is its default. memberlist has
 * no cap, and without one a header declaring 16 million nodes made a 12 KB compressed stream build an object
 * per byte. A peer lists the members it holds, so one holding no more than we may never lists more.
 */
export const DEFAULT_MAX_PUSH_PULL_NODES = 5_000;

/** What a node state needs to name, reach and judge a node. memberlist writes all seven fields; Vsn is absent
 * from pre-versioned peers and Meta may be, so those two default to empty. */
const REQUIRED_NODE_FIELDS = ['Name', 'Addr', 'Port', 'Incarnation', 'State'] as const;

export function encodePushPull(p: PushPull): Uint8Array {
  const w = new MsgpackWriter(64 + 80 * p.nodes.length + p.userState.length);
  w.byte(MessageType.pushPull);
  w.mapHeader(3).str('Join').bool(p.join).str('Nodes').uint(p.nodes.length).str('UserStateLen').uint(p.userState.length);
  for (const n of p.nodes) {
    w.mapHeader(7)
      .str('Addr')
      .bytes(n.addr)
      .str('Incarnation')
      .uint(n.incarnation)
      .str('Meta')
      .bytes(n.meta)
      .str('Name')
      .str(n.name)
      .str('Port')
      .uint(n.port)
      .str('State')
      .uint(nodeStateCode(n.state))
      .str('Vsn')
      .bytes(Uint8Array.from(n.vsn));
  }
  w.raw(p.userState);
  return w.finish();
}

/** encodePushPull(p).length without encoding: traffic accounting sizes every push-pull in and out. */
export function pushPullSize(p: PushPull): number {
  let size = 1 + 1 + rawSize(4) + 1 + rawSize(5) + uintSize(p.nodes.length) + rawSize(12) + uintSize(p.userState.length);
  for (const n of p.nodes) {
    size += 1 + NODE_KEY_BYTES + bytesSize(n.addr.length) + uintSize(n.incarnation) + bytesSize(n.meta.length);
    size += rawSize(utf8Length(n.name)) + uintSize(n.port) + uintSize(nodeStateCode(n.state)) + bytesSize(n.vsn.length);
  }
  return size + p.userState.length;
}

const NODE_KEY_BYTES = ['Addr', 'Incarnation', 'Meta', 'Name', 'Port', 'State', 'Vsn'].reduce((sum, key) => sum + rawSize(key.length), 0);

function uintSize(n: number): number {
  return n <= 0x7f ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

function rawSize(len: number): number {
  return (len < 32 ? 1 : len < 65536 ? 3 : 5) + len;
}

/** MsgpackWriter.bytes writes an empty slice as nil, as Go does. */
function bytesSize(len: number): number {
  return len === 0 ? 1 : rawSize(len);
}

function utf8Length(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) <= 0x7f;
  return ascii ? s.length : new TextEncoder().encode(s).length;
}

export interface PushPullHeader {
  join: boolean;
  nodes: number;
  userStateLen: number;
}

/** The header alone: a stream learns from it how many node states and user state bytes follow. */
export function readPushPullHeader(r: MsgpackReader, maxNodes: number): PushPullHeader {
  const header = readStruct(r.read(), 'pushPullHeader');
  const nodes = fieldInt(header, 'Nodes');
  const userStateLen = fieldInt(header, 'UserStateLen');
  if (nodes < 0 || userStateLen < 0 || userStateLen > MAX_PUSH_STATE_BYTES) throw new MsgpackError('push-pull: bad header');
  if (nodes > maxNodes) throw new MsgpackError(`push-pull: ${nodes} node states, more than the limit of ${maxNodes}`);
  return { join: fieldBool(header, 'Join'), nodes, userStateLen };
}

/**
 * Reads a push-pull body from `r` (positioned after the type byte); NeedMoreBytes if it is not all there.
 * Each struct is decoded whole: on a stream, StreamScan has bounded their size and nesting beforehand.
 */
export function readPushPull(r: MsgpackReader, maxNodes: number = DEFAULT_MAX_PUSH_PULL_NODES): PushPull {
  const header = readPushPullHeader(r, maxNodes);
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < header.nodes; i++) {
    const m = readStruct(r.read(), 'pushNodeState');
    for (const field of REQUIRED_NODE_FIELDS) if (!m.has(field)) throw new MsgpackError(`push-pull: a node state without ${field}`);
    const state = nodeStateFromCode(fieldInt(m, 'State'));
    const node: PushNodeState = {
      name: fieldString(m, 'Name'),
      addr: fieldBytes(m, 'Addr'),
      port: fieldUint(m, 'Port', 0xffff),
      meta: fieldBytes(m, 'Meta'),
      incarnation: fieldUint(m, 'Incarnation', 0xffffffff),
      // A state from a newer memberlist we cannot interpret: that entry is skipped, the rest still merge.
      state: state ?? 'dead',
      vsn: readVsn(m, 'Vsn'),
    };
    if (state !== undefined) nodes.push(node);
  }
  const userState = r.take(header.userStateLen).slice();
  return { join: header.join, nodes, userState };
}

export function encodeUserStream(payload: Uint8Array): Uint8Array {
  const w = new MsgpackWriter(payload.length + 24);
  w.byte(MessageType.user).mapHeader(1).str('UserMsgLen').uint(payload.length).raw(payload);
  return w.finish();
}

/** Apart from the body: a stream learns from the header alone how many bytes to wait for. */
export function readUserStreamHeader(r: MsgpackReader): number {
  const len = fieldInt(readStruct(r.read(), 'userMsgHeader'), 'UserMsgLen');
  if (len < 0 || len > MAX_PUSH_STATE_BYTES) throw new MsgpackError('user message: bad length');
  return len;
}

export function readUserStream(r: MsgpackReader): Uint8Array {
  return r.take(readUserStreamHeader(r)).slice();
}
