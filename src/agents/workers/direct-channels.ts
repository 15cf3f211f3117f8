// A worker's direct channels to the other workers of the pool: one MessageChannel per pair, set up by the
// main thread (worker-protocol.ts `peer-port`). A send from an agent here to an agent of another worker goes
// straight there, in one post per turn per pair, never through the main thread. The receiver answers for
// each message once it left its mailbox (or was refused, or routed again), so what is on its way to one
// receiver is bounded by that receiver's mailbox bound, as the main thread bounds its own deliveries. What a
// replaced worker had not answered is reported `lost`, and the main thread answers it WORKER_RESTARTED.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { DeliveryOutcome } from '../../messaging/delivery.ts';
import type { AclMessage } from '../../messaging/message.ts';
import type { RuntimeLogger } from '../runtime-observer.ts';
import { messageOfWireText, settledWireTextOf, wireByteLengthOf } from '../../messaging/wire-text.ts';
import type { FromWorker, IdleFigures, PeerItem } from './worker-protocol.ts';

/** What the channels need from the worker around them. */
export interface DirectChannelHost {
  emit(item: FromWorker): void;
  /** Something waits to be posted: flush() must run at the end of this turn. */
  wantFlush(): void;
  /** Into the mailbox of an agent of this worker. */
  deliver(msg: AclMessage, to: string): DeliveryOutcome;
  /** A delivery from another worker went into `to`'s mailbox. */
  queued(msg: AclMessage, to: string): void;
  /** The conversation history records `conversationId`: a send in it carries the mark to its receiver. */
  tracks(conversationId: string): boolean;
  /** A delivery arrived marked as recorded by the history. */
  track(conversationId: string): void;
  readonly logger: RuntimeLogger;
}

interface Peer {
  index: number;
  port: MessagePort;
  /** Queued for this turn's post. */
  out: PeerItem[];
  /** Seqs of deliveries from this peer that left their mailbox (or were refused, or re-routed): posted back. */
  settled: number[];
  /** Sent to it and not settled yet: reported lost if it is replaced meanwhile. */
  readonly unsettled: Map<number, { msg: AclMessage; to: string }>;
  /** Per receiver: how many of `unsettled` are its (bounded by its mailbox, as the main thread bounds its own). */
  readonly waiting: Map<string, number>;
  nextSeq: number;
}

export class DirectChannels {
  readonly #peers: (Peer | undefined)[] = [];
  /** Which worker runs each agent of the other workers, and its mailbox bound (the main thread's `placed`/`unplaced`). */
  readonly #placement = new Map<string, { index: number; mailbox: number }>();
  /** A delivery from another worker, until it leaves its mailbox: whom to tell. */
  readonly #directOf = new WeakMap<AclMessage, { peer: Peer; seq: number }>();
  #pending = false;
  #sent = 0;

  constructor(private readonly host: DirectChannelHost) {}

  /** Something waits to be posted to a peer. */
  get pending(): boolean {
    return this.#pending;
  }

  place(index: number, names: readonly string[], mailboxes: readonly number[]): void {
    for (let i = 0; i < names.length; i++) this.#placement.set(names[i], { index, mailbox: mailboxes[i] });
  }

  unplace(names: readonly string[]): void {
    for (const name of names) this.#placement.delete(name);
  }

  /**
   * Sends `msg` to `to`, an agent of another worker, in this turn's post to it; false when no other worker is
   * known to run `to` (the main thread's router then decides).
   */
  send(msg: AclMessage, to: string): boolean {
    const place = this.#placement.get(to);
    const peer = place === undefined ? undefined : this.#peers[place.index];
    if (peer === undefined) return false;
    const waiting = peer.waiting.get(to) ?? 0;
    if (waiting >= place!.mailbox) {
      // As many on their way as its mailbox holds: refused here, as the main thread refuses past its count.
      this.host.emit({ t: 'refused', msg, to, outcome: 'mailbox_full' });
      return true;
    }
    peer.waiting.set(to, waiting + 1);
    const seq = peer.nextSeq++;
    peer.unsettled.set(seq, { msg, to });
    this.#sent++;
    const track = this.host.tracks(msg.conversation_id);
    // An agent's spliced send crosses as its text alone (worker-protocol.ts `deliver-text`).
    const text = settledWireTextOf(msg);
    if (text !== undefined) {
      const bytes = wireByteLengthOf(msg);
      peer.out.push(track ? { t: 'direct-text', seq, to, text, bytes, track } : { t: 'direct-text', seq, to, text, bytes });
    } else {
      peer.out.push(track ? { t: 'direct', seq, to, msg, track } : { t: 'direct', seq, to, msg });
    }
    this.#pending = true;
    this.host.wantFlush();
    return true;
  }

  /**
   * `msg` left its mailbox here (taken, or handed over with its agent): if it came from another worker, that
   * worker is told. False when it did not come over a direct channel.
   */
  settle(msg: AclMessage): boolean {
    const from = this.#directOf.get(msg);
    if (from === undefined) return false;
    this.#directOf.delete(msg);
    if (this.#peers[from.peer.index] !== from.peer) return true; // that worker was replaced: nobody waits for the answer
    from.peer.settled.push(from.seq);
    this.#pending = true;
    this.host.wantFlush();
    return true;
  }

  /** Takes the channel to worker `index` (a new one when that worker was replaced). */
  connect(index: number, port: MessagePort): void {
    const old = this.#peers[index];
    if (old !== undefined) {
      // That worker was replaced. What it posted before is still queued on its port (the main thread's notice
      // can overtake it): its sends reach their agents here, and its answers settle what it did take. Only
      // the rest is lost, and answered by the main thread, as for its own hand-overs.
      this.#takeQueued(old);
      old.port.close();
      for (const { msg, to } of old.unsettled.values()) this.host.emit({ t: 'lost', msg, to, worker: index });
      old.unsettled.clear();
      old.waiting.clear();
    }
    const peer: Peer = { index, port, out: [], settled: [], unsettled: new Map(), waiting: new Map(), nextSeq: 1 };
    this.#peers[index] = peer;
    port.on('message', (batch: PeerItem[]) => {
      if (this.#peers[index] === peer) this.#received(peer, batch);
    });
  }

  #received(peer: Peer, batch: PeerItem[]): void {
    for (const item of batch) {
      try {
        if (item.t === 'direct') this.#receive(peer, item.seq, item.to, item.msg, item.track);
        else if (item.t === 'direct-text') this.#receive(peer, item.seq, item.to, messageOfWireText(item.text, item.bytes), item.track);
        else for (const seq of item.seqs) this.#settled(peer, seq);
      } catch (err) {
        this.host.logger.error({ err }, 'agent worker: a delivery from another worker failed');
      }
    }
    if (this.#pending) this.host.wantFlush();
  }

  /** Takes at once what the other workers posted here and this worker has not read yet (a hand-over's release). */
  drain(): void {
    for (const peer of this.#peers) if (peer !== undefined) this.#takeQueued(peer);
  }

  /** Handles now, without waiting for the event loop, every batch still queued on `peer`'s port. */
  #takeQueued(peer: Peer): void {
    for (let queued = receiveMessageOnPort(peer.port); queued !== undefined; queued = receiveMessageOnPort(peer.port)) {
      this.#received(peer, queued.message as PeerItem[]);
    }
  }

  /** Posts this turn's batch to each peer. */
  flush(): void {
    this.#pending = false;
    for (const peer of this.#peers) {
      if (peer === undefined) continue;
      if (peer.settled.length > 0) {
        peer.out.push({ t: 'settled', seqs: peer.settled });
        peer.settled = [];
      }
      if (peer.out.length === 0) continue;
      const batch = peer.out;
      peer.out = [];
      peer.port.postMessage(batch);
    }
  }

  idleFigures(): IdleFigures {
    let directUnsettled = 0;
    for (const peer of this.#peers) if (peer !== undefined) directUnsettled += peer.unsettled.size + peer.out.length;
    return { directSent: this.#sent, directUnsettled };
  }

  /** A delivery from another worker: to the agent's mailbox here, or, if it left this worker, to the router. */
  #receive(peer: Peer, seq: number, to: string, msg: AclMessage, track: true | undefined): void {
    if (track) this.host.track(msg.conversation_id);
    const outcome = this.host.deliver(msg, to);
    if (outcome === 'queued') {
      this.#directOf.set(msg, { peer, seq });
      this.host.queued(msg, to);
      return;
    }
    peer.settled.push(seq);
    this.#pending = true;
    // Removed or handed over after the sender last heard where it runs: the router knows where it is now.
    if (outcome === 'not_found') this.host.emit({ t: 'route', msg });
    else this.host.emit({ t: 'refused', msg, to, outcome });
  }

  /** The receiver answered for one of this worker's direct sends. */
  #settled(peer: Peer, seq: number): void {
    const entry = peer.unsettled.get(seq);
    if (entry === undefined) return;
    peer.unsettled.delete(seq);
    const waiting = peer.waiting.get(entry.to) ?? 0;
    if (waiting > 1) peer.waiting.set(entry.to, waiting - 1);
    else peer.waiting.delete(entry.to);
  }
}
