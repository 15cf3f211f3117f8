// Full state exchange over a stream (memberlist net.go sendAndReceiveState / mergeRemoteState, state.go
// mergeState): anti-entropy that repairs what gossip missed, and the way a node joins.
import { CaxtonError, describeError } from '../../errors.ts';
import type { Core } from './core.ts';
import { aliveNode, deadNode, suspectNode } from './member-updates.ts';
import type { PushNodeState, PushPull } from './messages.ts';
import type { PeerAddress } from './transport.ts';

export function localState(core: Core, join: boolean): PushPull {
  const nodes: PushNodeState[] = core.table.nodes.map((n) => ({
    name: n.name,
    addr: n.addr,
    port: n.port,
    meta: n.meta,
    incarnation: n.incarnation,
    state: n.state,
    vsn: n.vsn,
  }));
  let userState: Uint8Array = new Uint8Array(0);
  core.notify('localState', () => {
    userState = core.delegate.localState?.(join) ?? userState;
  });
  return { join, nodes, userState };
}

/**
 * Checks that every alive member (ours and theirs) speaks a protocol and delegate version every other one
 * understands (memberlist verifyProtocol). Throws when the clusters cannot talk.
 */
export function verifyProtocol(core: Core, remote: PushNodeState[]): void {
  const all = [...remote.filter((n) => n.state === 'alive' && n.vsn.length >= 6), ...core.table.nodes.filter((n) => n.state === 'alive')];
  let maxPMin = 0;
  let minPMax = 255;
  let maxDMin = 0;
  let minDMax = 255;
  for (const { vsn } of all) {
    maxPMin = Math.max(maxPMin, vsn[0]);
    minPMax = Math.min(minPMax, vsn[1]);
    maxDMin = Math.max(maxDMin, vsn[3]);
    minDMax = Math.min(minDMax, vsn[4]);
  }
  for (const { name, vsn } of all) {
    if (vsn[2] < maxPMin || vsn[2] > minPMax) {
      throw new CaxtonError('CONFLICT', `node '${name}' protocol version (${vsn[2]}) is incompatible: [${maxPMin}, ${minPMax}]`);
    }
    if (vsn[5] < maxDMin || vsn[5] > minDMax) {
      throw new CaxtonError('CONFLICT', `node '${name}' delegate protocol version (${vsn[5]}) is incompatible: [${maxDMin}, ${minDMax}]`);
    }
  }
}

export function mergeRemoteState(core: Core, remote: PushPull, join: boolean): void {
  verifyProtocol(core, remote.nodes);
  for (const r of remote.nodes) {
    switch (r.state) {
      case 'alive':
        aliveNode(core, { type: 'alive', incarnation: r.incarnation, node: r.name, addr: r.addr, port: r.port, meta: r.meta, vsn: r.vsn }, false);
        break;
      case 'left':
        deadNode(core, { type: 'dead', incarnation: r.incarnation, node: r.name, from: r.name });
        break;
      // A peer's "dead" becomes only our suspicion: the node gets a chance to refute.
      case 'dead':
      case 'suspect':
        suspectNode(core, { type: 'suspect', incarnation: r.incarnation, node: r.name, from: core.name });
        break;
    }
  }
  if (remote.userState.length > 0) {
    core.notify('mergeRemoteState', () => core.delegate.mergeRemoteState?.(remote.userState, join));
  }
}

/** Push-pull with one peer (join = true when joining through it). */
export async function pushPullWith(core: Core, to: PeerAddress, join: boolean): Promise<void> {
  const remote = await core.transport.pushPull(to, localState(core, join), core.config.tcpTimeoutMs);
  if (core.stopped) return;
  mergeRemoteState(core, remote, join);
}

/** Answers a peer's push-pull: our state (taken before merging theirs, as memberlist), then merge. */
export function answerPushPull(core: Core, remote: PushPull): PushPull {
  const reply = localState(core, remote.join);
  if (!core.stopped) {
    try {
      mergeRemoteState(core, remote, remote.join);
    } catch (err) {
      core.warnLimited('push-pull-refused', `membership: push-pull from a peer refused: ${describeError(err)}`);
    }
  }
  return reply;
}
