// What alive, suspect and dead news does to our view of a member, with incarnation numbers deciding which
// news is newer, and refutation when the news is about us (memberlist state.go aliveNode, suspectNode,
// deadNode, refute).
import { bytesToHost, isIpBytes } from './address.ts';
import type { Core } from './core.ts';
import type { Alive, Dead, Suspect } from './messages.ts';
import { isDeadOrLeft, toMember, type NodeRecord } from './node-table.ts';
import { Suspicion } from './suspicion.ts';
import type { PeerAddress } from './transport.ts';
import { suspicionTimeout } from './timing.ts';

/** memberlist's MetaMaxSize. */
export const META_MAX_BYTES = 512;

/**
 * Longest member name accepted. memberlist sets none, so a compressed alive could name a member with a
 * mebibyte; 512 is twice a DNS name's 253, and with 512 bytes of meta the alive still fits one packet.
 */
export const NAME_MAX_LENGTH = 512;

/** Each side speaks a protocol and a delegate version within the other's range (memberlist verifyProtocol, pairwise). */
export function versionsCompatible(theirs: readonly number[], ours: readonly number[]): boolean {
  const within = (v: number | undefined, min: number | undefined, max: number | undefined): boolean =>
    v !== undefined && min !== undefined && max !== undefined && v >= min && v <= max;
  return within(theirs[2], ours[0], ours[1]) && within(ours[2], theirs[0], theirs[1]) && within(theirs[5], ours[3], ours[4]) && within(ours[5], theirs[3], theirs[4]);
}

function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65535;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Gossips an alive message about ourselves with an incarnation above the accusation. */
export function refute(core: Core, me: NodeRecord, accusedIncarnation: number): void {
  let inc = core.nextIncarnation();
  if (accusedIncarnation >= inc) inc = core.skipIncarnation(accusedIncarnation - inc + 1);
  me.incarnation = inc;
  // Being accused means others cannot hear us well: we may be the unhealthy one.
  core.awareness.applyDelta(1);
  const alive: Alive = {
    type: 'alive',
    incarnation: inc,
    node: me.name,
    addr: me.addr,
    port: me.port,
    meta: me.meta,
    vsn: me.vsn,
  };
  core.broadcast(me.name, alive);
}

/**
 * Tells the peer that just sent us an accusation about ourselves (suspect or dead, fresh or stale) what our
 * current alive is, straight back over UDP. The refutation broadcast alone goes out only a few times
 * (retransmitLimit) to random members, so in a small cluster the one member still holding the suspicion
 * can miss every copy and declare us dead although we answered; memberlist would leave it to push-pull.
 * The peer that gossips the accusation to us is, by construction, one that holds it.
 */
export function answerAccuser(core: Core, to: PeerAddress, accusation: Suspect | Dead): void {
  if (accusation.node !== core.name || core.left) return;
  const me = core.table.get(core.name);
  if (!me || me.state !== 'alive') return;
  const alive: Alive = { type: 'alive', incarnation: me.incarnation, node: me.name, addr: me.addr, port: me.port, meta: me.meta, vsn: me.vsn };
  // Alone, not with piggybacked gossip: a transmit of the refutation spent on this peer would be one fewer
  // for the members that have not heard it.
  if (!core.stopped) core.transport.sendPackets(to, [alive]);
}

/**
 * @param bootstrap true for our own alive (start, meta update): applied, never refuted.
 * @param onFinished called when the broadcast of this alive is done (updateMeta waits on it).
 */
export function aliveNode(core: Core, a: Alive, bootstrap: boolean, onFinished?: () => void): void {
  if (core.left && a.node === core.name) return;
  const [pMin, pMax] = a.vsn;
  if (!pMin || !pMax || pMin > pMax) return;
  // A member nobody can send to would be probed, gossiped to and spread to every node: refuse it here,
  // where it first arrives (memberlist leaves this to the socket's error, which Node throws synchronously).
  // A peer's address must be an IP (push-pull states reach here without the packet codec's check): bytes
  // that decode to a name would have us resolve it. Only our own configured address may be a name.
  if (!isValidPort(a.port) || a.addr.length === 0 || (!bootstrap && !isIpBytes(a.addr))) {
    core.warnLimited('alive-unusable-address', `membership: ignoring alive for ${JSON.stringify(a.node).slice(0, 80)}: unusable address (port ${a.port}, ${a.addr.length} address bytes)`);
    return;
  }
  // A member we cannot speak with would fail memberlist's version rule in every later push-pull: one
  // unauthenticated datagram claiming versions [217, 255, ...] made every join to this node fail (found by
  // fuzzing, test/cluster/membership/alive-versions.test.ts). memberlist only checks min <= max here.
  if (a.node !== core.name && !versionsCompatible(a.vsn, core.config.vsn)) {
    core.logger.debug(`membership: ignoring alive for ${JSON.stringify(a.node).slice(0, 80)}: versions [${a.vsn.join(', ')}] incompatible with ours`);
    return;
  }
  // memberlist checks MetaMaxSize only on its own meta; a peer's is stored, gossiped and pushed to every
  // node, so here the same bound holds for all. No memberlist or Serf node sends more.
  if (a.meta.length > META_MAX_BYTES || a.node.length > NAME_MAX_LENGTH) {
    core.warnLimited('alive-too-large', `membership: ignoring alive for ${JSON.stringify(a.node.slice(0, 80))}: name of ${a.node.length} characters, meta of ${a.meta.length} bytes (at most ${NAME_MAX_LENGTH}, ${META_MAX_BYTES})`);
    return;
  }
  let state = core.table.get(a.node);
  let updatesNode = false;
  const isNew = !state;
  if (!state) {
    if (core.table.size >= core.config.maxMembers) {
      core.membersRefused += 1;
      core.warnLimited('alive-member-cap', `membership: ignoring alive for new member ${JSON.stringify(a.node).slice(0, 80)}: ${core.table.size} members held, the most allowed (gossip.max_members)`);
      return;
    }
    // Unknown until now: enters as dead with incarnation 0, so what follows is a join.
    state = {
      name: a.node,
      addr: a.addr,
      host: bytesToHost(a.addr),
      port: a.port,
      meta: a.meta,
      incarnation: 0,
      state: 'dead',
      stateChange: core.clock.now(),
      vsn: a.vsn,
    };
    core.table.add(state);
  } else if (!sameBytes(state.addr, a.addr) || state.port !== a.port) {
    // A name now claimed from another address: only a member that left may be replaced.
    if (state.state !== 'left') {
      core.warnLimited('alive-conflicting-address', `membership: conflicting address for ${JSON.stringify(a.node).slice(0, 80)}: ${state.host}:${state.port} vs ${bytesToHost(a.addr)}:${a.port}`);
      return;
    }
    updatesNode = true;
  }
  const isLocal = state.name === core.name;
  if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
  if (a.incarnation < state.incarnation && isLocal) return;

  clearSuspicion(core, a.node);
  const oldState = state.state;
  const oldMeta = state.meta;
  if (!bootstrap && isLocal) {
    // Someone spreads an alive about us: harmless if it is exactly ours, else (a restart with other meta,
    // or a stale view) we refute with a newer incarnation.
    if (a.incarnation === state.incarnation && sameBytes(a.meta, state.meta) && a.vsn.every((v, i) => v === state.vsn[i])) return;
    refute(core, state, a.incarnation);
  } else {
    core.broadcast(a.node, a, onFinished);
    state.vsn = a.vsn;
    state.incarnation = a.incarnation;
    state.meta = a.meta;
    if (updatesNode) {
      state.addr = a.addr;
      state.host = bytesToHost(a.addr);
      state.port = a.port;
    }
    if (state.state !== 'alive') {
      state.state = 'alive';
      state.stateChange = core.clock.now();
    }
  }
  if (state.state !== oldState) {
    core.failed.delete(state.name);
    core.stateChanged(state, isNew ? undefined : oldState);
  }
  const member = toMember(state);
  if (oldState === 'dead' || oldState === 'left') {
    if (state.state === 'alive') core.notify('onJoin', () => core.events.onJoin?.(member));
  } else if (!sameBytes(oldMeta, state.meta)) {
    core.notify('onUpdate', () => core.events.onUpdate?.(member));
  }
}

export function suspectNode(core: Core, s: Suspect): void {
  const state = core.table.get(s.node);
  if (!state) return;
  if (s.incarnation < state.incarnation) return;
  // Already suspect: a new accuser is an independent confirmation (Lifeguard), worth re-gossiping.
  const existing = core.suspicions.get(s.node);
  if (existing) {
    if (existing.confirm(s.from)) core.broadcast(s.node, s);
    return;
  }
  if (state.state !== 'alive') return;
  if (state.name === core.name) {
    refute(core, state, s.incarnation);
    return;
  }
  core.broadcast(s.node, s);
  state.incarnation = s.incarnation;
  state.state = 'suspect';
  const changeTime = core.clock.now();
  state.stateChange = changeTime;

  const { config } = core;
  const n = core.table.size;
  // Expect confirmations from suspicionMult - 2 others, so the nominal timeout is hit two probe intervals
  // early; with too few members to confirm, expect none (n - 2: not us, not the suspect).
  let k = config.suspicionMult - 2;
  if (n - 2 < k || !config.lifeguard.dynamicSuspicion) k = 0;
  const min = suspicionTimeout(config.suspicionMult, n, config.probeIntervalMs);
  const max = config.lifeguard.dynamicSuspicion ? config.suspicionMaxTimeoutMult * min : min;
  const timer = new Suspicion(s.from, k, min, max, core.clock, (confirmations) => {
    const current = core.table.get(s.node);
    if (!current || current.state !== 'suspect' || current.stateChange !== changeTime) return;
    core.logger.info(`membership: marking ${s.node} as failed, suspect timeout reached (${confirmations} peer confirmations)`);
    deadNode(core, { type: 'dead', incarnation: current.incarnation, node: current.name, from: core.name });
  });
  core.suspicions.set(s.node, timer);
  core.stateChanged(state, 'alive');
}

/** @param onFinished for our own leave: called when the broadcast of our death is done. */
export function deadNode(core: Core, d: Dead, onFinished?: () => void): void {
  const state = core.table.get(d.node);
  if (!state) return;
  if (d.incarnation < state.incarnation) return;
  clearSuspicion(core, d.node);
  if (isDeadOrLeft(state)) return;
  if (state.name === core.name) {
    if (!core.left) {
      refute(core, state, d.incarnation);
      return;
    }
    core.broadcast(d.node, d, onFinished);
  } else {
    core.broadcast(d.node, d);
  }
  const oldState = state.state;
  state.incarnation = d.incarnation;
  // A dead message sent by the node itself is a graceful leave.
  state.state = d.node === d.from ? 'left' : 'dead';
  state.stateChange = core.clock.now();
  if (state.state === 'dead' && state.name !== core.name) {
    core.noteFailed(state);
  } else {
    core.failed.delete(state.name);
  }
  core.stateChanged(state, oldState);
  const member = toMember(state);
  core.notify('onLeave', () => core.events.onLeave?.(member));
}

function clearSuspicion(core: Core, name: string): void {
  const timer = core.suspicions.get(name);
  if (timer) {
    timer.cancel();
    core.suspicions.delete(name);
  }
}
