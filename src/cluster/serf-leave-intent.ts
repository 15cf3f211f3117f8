// Serf tells "left" from "failed" by its own leave intent (serf messages.go messageLeave), gossiped as a
// user message before memberlist's leave: without it a stock `serf agent` lists a node that left on
// purpose as failed. This is the one Serf message Caxton writes: [0 = messageLeaveType] then a msgpack
// map {LTime, Node}. The Lamport time must exceed what Serf last saw for us (0: we send no join intents);
// seconds since the epoch grow across restarts, so a node that rejoins and leaves again is still believed.
import { MsgpackWriter } from './wire/msgpack.ts';

const SERF_MESSAGE_LEAVE = 0;

export function serfLeaveIntent(node: string, nowMs: number = Date.now()): Uint8Array {
  const w = new MsgpackWriter(32 + node.length);
  w.byte(SERF_MESSAGE_LEAVE).mapHeader(2).str('LTime').uint(Math.floor(nowMs / 1000)).str('Node').str(node);
  return w.finish();
}
