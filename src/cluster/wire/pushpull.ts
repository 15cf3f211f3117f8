// The bodies memberlist sends over streams (net.go sendLocalState/readRemoteState, sendUserMsg/readUserMsg):
//   push-pull: [6] pushPullHeader{Join, Nodes, UserStateLen} pushNodeState × Nodes, then UserStateLen raw bytes
//   user:      [8] userMsgHeader{UserMsgLen}, then UserMsgLen raw bytes
// The user state is the delegate's (Serf's or Caxton's) and stays opaque bytes here.
import { MessageType, type PushNodeState, type PushPull } from '../membership/messages.ts';
import { nodeStateCode, nodeStateFromCode, readVsn } from './codec.ts';
import { fieldBool, fieldBytes, fieldInt, fieldString, fieldUint, MsgpackError, type MsgpackReader, MsgpackWriter, readStruct } from './msgpack.ts';

/** memberlist's maxPushStateBytes: a peer may not make us buffer more than this. */
export const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;

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

/** Reads a push-pull body from `r` (positioned after the type byte); NeedMoreBytes if it is not all there. */
export function readPushPull(r: MsgpackReader): PushPull {
  const header = readStruct(r.read(), 'pushPullHeader');
  const count = fieldInt(header, 'Nodes');
  const userStateLen = fieldInt(header, 'UserStateLen');
  if (count < 0 || userStateLen < 0 || userStateLen > MAX_PUSH_STATE_BYTES) throw new MsgpackError('push-pull: bad header');
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < count; i++) {
    const m = readStruct(r.read(), 'pushNodeState');
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
  const userState = r.take(userStateLen).slice();
  return { join: fieldBool(header, 'Join'), nodes, userState };
}

export function encodeUserStream(payload: Uint8Array): Uint8Array {
  const w = new MsgpackWriter(payload.length + 24);
  w.byte(MessageType.user).mapHeader(1).str('UserMsgLen').uint(payload.length).raw(payload);
  return w.finish();
}

export function readUserStream(r: MsgpackReader): Uint8Array {
  const len = fieldInt(readStruct(r.read(), 'userMsgHeader'), 'UserMsgLen');
  if (len < 0 || len > MAX_PUSH_STATE_BYTES) throw new MsgpackError('user message: bad length');
  return r.take(len).slice();
}
