// The messages of HashiCorp memberlist's protocol (net.go), as plain values. The codec turns them into
// memberlist's bytes (msgpack maps keyed by the Go field names); the SWIM core only sees these shapes.

/** memberlist's messageType byte. */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
  hasLabel: 244,
} as const;

/** memberlist's NodeStateType as carried in push-pull state. */
export const NodeStateCode = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type NodeState = keyof typeof NodeStateCode;

/**
 * Whether a member in `state` still counts as one: alive, or suspected and not yet declared dead (it may well
 * be alive, and memberlist counts it too: NumMembers, the gossip targets, the reconnect scale).
 */
export function isLive(state: string): boolean {
  return state === 'alive' || state === 'suspect';
}

/**
 * memberlist's version vector: [protocolMin, protocolMax, protocolCur, delegateMin, delegateMax, delegateCur].
 * Serf 0.8/0.9 checks both ranges overlap its own.
 */
export type Vsn = [number, number, number, number, number, number];

export interface Ping {
  type: 'ping';
  seqNo: number;
  /** The node the sender believes it is probing; a node answers only pings for its own name. */
  node: string;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

export interface IndirectPing {
  type: 'indirectPing';
  seqNo: number;
  target: Uint8Array;
  port: number;
  node: string;
  /** The requester wants a nack if the target does not answer in time (Lifeguard). */
  nack: boolean;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

export interface AckResp {
  type: 'ackResp';
  seqNo: number;
  payload: Uint8Array;
}

export interface NackResp {
  type: 'nackResp';
  seqNo: number;
}

export interface ErrResp {
  type: 'err';
  error: string;
}

export interface Suspect {
  type: 'suspect';
  incarnation: number;
  node: string;
  from: string;
}

export interface Alive {
  type: 'alive';
  incarnation: number;
  node: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  vsn: Vsn;
}

export interface Dead {
  type: 'dead';
  incarnation: number;
  node: string;
  /** Equal to `node` when the node is leaving on purpose (memberlist's graceful leave). */
  from: string;
}

/** A user (delegate) message; Caxton's own layers ride here, foreign ones are ignored. */
export interface UserMsg {
  type: 'user';
  payload: Uint8Array;
}

export type PacketMessage = Ping | IndirectPing | AckResp | NackResp | ErrResp | Suspect | Alive | Dead | UserMsg;

/** One member as exchanged in a push-pull. */
export interface PushNodeState {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeState;
  vsn: Vsn;
}

/** The whole state one side sends in a push-pull exchange (over TCP). */
export interface PushPull {
  join: boolean;
  nodes: PushNodeState[];
  /** The delegate's opaque state; foreign (e.g. Serf's) state is ignored, never parsed blindly. */
  userState: Uint8Array;
}
