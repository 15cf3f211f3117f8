// The membership facade (memberlist memberlist.go): start, join, leave, shutdown, the member list, meta
// updates and user broadcasts. The protocol itself lives in the files next to this one.
import { CaxtonError } from '../../errors.ts';
import { clearAckHandlers } from './ack-handlers.ts';
import { hostToBytes } from './address.ts';
import { silentLogger, type Clock, type MembershipLogger, type Random, type TimerHandle } from './clock.ts';
import { fastDetectConfig, type MembershipConfig } from './config.ts';
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, Core } from './core.ts';
import type { Delegate } from './delegate.ts';
import type { EventDelegate } from './event-delegate.ts';
import { gossipRound } from './gossip.ts';
import type { Member } from './member.ts';
import { aliveNode, deadNode, META_MAX_BYTES, NAME_MAX_LENGTH } from './member-updates.ts';
import type { Alive, UserMsg } from './messages.ts';
import { isLive } from './messages.ts';
import { toMember } from './node-table.ts';
import { handlePacket, handleStreamMessage } from './packet-handler.ts';
import { Prober } from './probe.ts';
import { answerPushPull, pushPullWith } from './push-pull-merge.ts';
import { reconnectRound } from './reconnect.ts';
import type { MessageTransport, PeerAddress } from './transport.ts';
import { pushPullScale } from './timing.ts';

export { META_MAX_BYTES } from './member-updates.ts';

export interface MembershipOptions {
  config?: MembershipConfig;
  /** Unique node name (memberlist Name). */
  name: string;
  meta?: Uint8Array;
  transport: MessageTransport;
  clock: Clock;
  random: Random;
  logger?: MembershipLogger;
  events?: EventDelegate;
  delegate?: Delegate;
}

export class Membership {
  private readonly core: Core;
  private readonly prober: Prober;
  private readonly meta: Uint8Array;
  private readonly timers = new Set<TimerHandle>();
  private started = false;
  /** join() calls under way; while any is, the names of members that joined through us are noted. */
  private joinsInFlight = 0;
  private readonly joinedMeanwhile = new Set<string>();

  constructor(options: MembershipOptions) {
    if (options.meta && options.meta.length > META_MAX_BYTES) {
      throw new CaxtonError('INVALID_ARGUMENT', `node meta is ${options.meta.length} bytes, at most ${META_MAX_BYTES}`);
    }
    // Peers ignore an alive with a longer name: such a node could never join.
    if (options.name.length > NAME_MAX_LENGTH) {
      throw new CaxtonError('INVALID_ARGUMENT', `node name is ${options.name.length} characters, at most ${NAME_MAX_LENGTH}`);
    }
    this.meta = options.meta ?? new Uint8Array(0);
    this.core = new Core({
      config: options.config ?? fastDetectConfig(),
      name: options.name,
      transport: options.transport,
      clock: options.clock,
      random: options.random,
      logger: options.logger ?? silentLogger,
      events: options.events ?? {},
      delegate: options.delegate ?? {},
    });
    this.prober = new Prober(this.core);
  }

  get name(): string {
    return this.core.name;
  }

  /** Registers with the transport, declares ourselves alive and starts probing, gossip and push-pull. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { core } = this;
    const { transport, config } = core;
    transport.onPackets((from, messages) => {
      for (const m of messages) handlePacket(core, this.prober, from, m);
    });
    transport.onPushPull((_from, remote) => {
      const reply = answerPushPull(core, remote);
      if (remote.join && this.joinsInFlight > 0) this.noteJoiner(remote.nodes.map((n) => n.name));
      return reply;
    });
    transport.onStreamMessage((from, message) => handleStreamMessage(core, from, message));

    const { host, port } = transport.localAddress;
    const alive: Alive = {
      type: 'alive',
      incarnation: core.nextIncarnation(),
      node: core.name,
      addr: hostToBytes(host),
      port,
      meta: this.meta,
      vsn: [...config.vsn],
    };
    aliveNode(core, alive, true);

    this.every(config.probeIntervalMs, () => this.prober.tick());
    if (config.gossipIntervalMs > 0 && config.gossipNodes > 0) this.every(config.gossipIntervalMs, () => gossipRound(core));
    if (config.pushPullIntervalMs > 0) {
      this.every(
        () => pushPullScale(config.pushPullIntervalMs, core.table.size),
        () => this.pushPullRandom(),
      );
    }
    if (config.reconnectIntervalMs > 0) this.every(config.reconnectIntervalMs, () => reconnectRound(core));
  }

  /** Push-pull (join) with each address; resolves with how many answered. Fails only if none did. */
  async join(addresses: PeerAddress[]): Promise<number> {
    let ok = 0;
    const errors: string[] = [];
    const reached: PeerAddress[] = [];
    this.joinsInFlight += 1;
    try {
      for (const address of addresses) {
        try {
          await pushPullWith(this.core, address, true);
          ok += 1;
          reached.push(address);
        } catch (err) {
          errors.push(`${address.host}:${address.port}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.joinsInFlight -= 1;
    }
    if (ok > 0 && this.joinsInFlight === 0) this.resyncJoinedMeanwhile(reached);
    if (ok === 0 && addresses.length > 0) {
      // The peer's reason (versions, key, label) belongs in the one line an operator reads.
      throw new CaxtonError('UNAVAILABLE', `could not join any of ${addresses.length} address(es): ${errors.join('; ')}`, { errors });
    }
    return ok;
  }

  /**
   * Graceful leave: gossips "dead" about ourselves with From = us, so others mark us `left`; resolves when
   * the broadcast went out its full retransmit count (or at once when no one else is alive). Rejects after
   * timeoutMs. Keep the node running (it still answers pings) until shutdown().
   */
  leave(timeoutMs: number): Promise<void> {
    const { core } = this;
    if (core.left) return Promise.resolve();
    core.left = true;
    const self = core.self();
    if (!self) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        core.clock.clearTimer(timer);
        resolve();
      };
      const timer = core.clock.setTimer(timeoutMs, () => {
        if (settled) return;
        settled = true;
        reject(new CaxtonError('UNAVAILABLE', 'timeout waiting for the leave broadcast'));
      });
      deadNode(core, { type: 'dead', incarnation: self.incarnation, node: core.name, from: core.name }, done);
      if (!this.anyAlive()) done();
    });
  }

  /** Stops every timer and closes the transport. No leave is sent: use leave() first to leave cleanly. */
  async shutdown(): Promise<void> {
    const { core } = this;
    if (core.stopped) return;
    core.stopped = true;
    for (const t of this.timers) core.clock.clearTimer(t);
    this.timers.clear();
    for (const s of core.suspicions.values()) s.cancel();
    core.suspicions.clear();
    clearAckHandlers(core);
    core.queue.reset();
    await core.transport.close();
  }

  /** Every member we know, ourselves included (dead and left ones until reaped, gossipToTheDeadTimeMs after). */
  members(): Member[] {
    return this.core.table.nodes.map(toMember);
  }

  /** How many members are alive or suspect, without building the list. */
  get liveCount(): number {
    return this.core.liveCount;
  }

  /** Alive news about new members ignored because config.maxMembers were held. */
  get membersRefused(): number {
    return this.core.membersRefused;
  }

  /** Members currently alive (suspect ones included: not yet declared dead). */
  liveMembers(): Member[] {
    return this.core.table.nodes.filter((n) => isLive(n.state)).map(toMember);
  }

  member(name: string): Member | undefined {
    const node = this.core.table.get(name);
    return node ? toMember(node) : undefined;
  }

  get localNode(): Member {
    const self = this.core.self();
    if (!self) throw new CaxtonError('UNAVAILABLE', 'membership not started');
    return toMember(self);
  }

  /** Lifeguard health score: 0 is healthy, up to awarenessMaxMultiplier - 1. */
  healthScore(): number {
    return this.core.awareness.healthScore();
  }

  /** Broadcasts new meta with a higher incarnation (memberlist UpdateNode). */
  updateMeta(meta: Uint8Array): void {
    if (meta.length > META_MAX_BYTES) throw new CaxtonError('INVALID_ARGUMENT', `node meta is ${meta.length} bytes, at most ${META_MAX_BYTES}`);
    const { core } = this;
    const self = core.self();
    if (!self) throw new CaxtonError('UNAVAILABLE', 'membership not started');
    const alive: Alive = {
      type: 'alive',
      incarnation: core.nextIncarnation(),
      node: core.name,
      addr: self.addr,
      port: self.port,
      meta,
      vsn: [...core.config.vsn],
    };
    aliveNode(core, alive, true);
  }

  /**
   * Queues a user message for gossip (sent retransmitLimit times to random members, never relayed by us).
   * With a `key` (memberlist NamedBroadcast), a newer message with the same key replaces this one while
   * queued. `onFinished` is called once, when it was sent enough times or was replaced.
   */
  sendUser(payload: Uint8Array, key?: string, onFinished?: () => void): void {
    const message: UserMsg = { type: 'user', payload };
    // Keys live apart from node names (which name the queue's SWIM messages): NUL is in no host name.
    const name = key === undefined ? undefined : `\u0000user:${key}`;
    this.core.queue.queue({ message, size: this.core.transport.messageSize(message), name, onFinished });
  }

  /** The largest user payload one gossip packet carries: a larger one would never leave the queue. */
  get maxUserPayloadBytes(): number {
    const empty = this.core.transport.messageSize({ type: 'user', payload: new Uint8Array(0) });
    return this.core.transport.maxPacketBytes - COMPOUND_HEADER_OVERHEAD - COMPOUND_OVERHEAD - empty;
  }

  /** Handlers of the layer above (delegate, events) that threw on input and were caught. */
  get handlerErrors(): number {
    return this.core.handlerErrors;
  }

  /** Broadcasts still waiting in the gossip queue. */
  pendingBroadcasts(): number {
    return this.core.queue.length;
  }

  /** At most this many members that joined through us during our own join get a full sync after it. */
  private static readonly RESYNC_MAX = 16;

  private noteJoiner(names: string[]): void {
    for (const name of names) {
      if (this.joinedMeanwhile.size >= Membership.RESYNC_MAX) return;
      if (name !== this.core.name) this.joinedMeanwhile.add(name);
    }
  }

  /**
   * Members that joined through us while our own join was in flight got the partial view we had then, and
   * the alive broadcasts about them were spent on the few peers we knew (the joiners themselves): without
   * this they and the cluster we joined learn of each other only at the next push-pull (issue 9, finding
   * a). So, once our join completed: push-pull again with the joined address (it learns the newcomers) and
   * with each newcomer (it learns the cluster). Best effort; push-pull repairs the rest later.
   */
  private resyncJoinedMeanwhile(reached: PeerAddress[]): void {
    const { core } = this;
    const names = [...this.joinedMeanwhile];
    this.joinedMeanwhile.clear();
    if (names.length === 0 || core.stopped) return;
    const targets = [...reached];
    for (const name of names) {
      const node = core.table.get(name);
      if (node && node.state === 'alive') targets.push(core.addressOf(node));
    }
    for (const to of targets) {
      pushPullWith(core, to, false).catch((err: Error) => {
        core.logger.debug(`membership: push-pull after join with ${to.host}:${to.port} failed: ${err.message}`);
      });
    }
  }

  private anyAlive(): boolean {
    return this.core.table.nodes.some((n) => n.name !== this.core.name && n.state === 'alive');
  }

  private pushPullRandom(): void {
    const { core } = this;
    const [node] = core.table.kRandom(1, (n) => n.name !== core.name && n.state === 'alive');
    if (!node) return;
    pushPullWith(core, core.addressOf(node), false).catch((err: Error) => {
      core.logger.debug(`membership: push-pull with ${node.name} failed: ${err.message}`);
    });
  }

  /** Runs fn every interval after a random stagger, so nodes started together do not tick together. */
  private every(interval: number | (() => number), fn: () => void): void {
    const { clock, random } = this.core;
    const next = (): number => (typeof interval === 'number' ? interval : interval());
    const schedule = (delay: number): void => {
      const handle = clock.setTimer(delay, () => {
        this.timers.delete(handle);
        if (this.core.stopped) return;
        fn();
        schedule(next());
      });
      this.timers.add(handle);
    };
    schedule(random() * next());
  }
}
