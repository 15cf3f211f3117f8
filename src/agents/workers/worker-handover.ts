// How an agent leaves a worker for a hand-over (a move, a drain, a rolling upgrade): its worker gives back
// the messages queued for it, and what arrives meanwhile is held on the main thread after them, so the new
// owner receives them all, in order.
import type { MessageSink } from '../../messaging/delivery.ts';
import type { AclMessage } from '../../messaging/message.ts';
import type { RuntimeLogger, RuntimeObserver } from '../runtime-observer.ts';
import type { AgentRecord } from './worker-agent-record.ts';
import type { WorkerHandle } from './worker-handle.ts';
import type { ToWorker } from './worker-protocol.ts';

/** What a hand-over needs from the pool. */
export interface WorkerHandoverContext {
  readonly records: ReadonlyMap<string, AgentRecord>;
  /** The router: where messages go that come back after the agent left. */
  readonly sink: MessageSink;
  readonly observer: RuntimeObserver;
  readonly logger: RuntimeLogger;
  request(handle: WorkerHandle, item: Extract<ToWorker, { req: number }>): Promise<unknown>;
  /**
   * Tells every worker to stop sending to `name` directly; resolves once each has answered (its direct sends
   * to it posted) or is gone.
   */
  unplaceEverywhere(name: string): Promise<void>;
  /** Drops the agent's record and its worker's claim on it. */
  forget(record: AgentRecord): void;
}

export class WorkerHandover {
  constructor(private readonly c: WorkerHandoverContext) {}

  /**
   * See AgentHost.prepareRelease: the agent is released on its worker (after the deliveries already on their
   * way there), which answers with its queued messages; from now on what arrives for it is held here, after
   * them. Never rejects: a worker that fails meanwhile answered the messages it held WORKER_RESTARTED.
   */
  prepare(record: AgentRecord): Promise<void> {
    const name = record.name;
    if (record.releasing !== undefined) return record.releasing;
    const handle = record.worker;
    const arrived: AclMessage[] = [];
    record.held = arrived;
    // First every worker stops sending to it directly and posts what it sent; then its worker takes those
    // in and releases it: what it gives back is then everything sent before what is held here.
    record.releasing = this.c.unplaceEverywhere(name).then(() => this.c.request(handle, { t: 'release', req: 0, name })).then(
      (queued) => {
        // What the main thread handed over and no mailbox took is in `queued` now: no longer in flight.
        for (const [seq, entry] of handle.inFlight) if (entry.to === name) handle.inFlight.delete(seq);
        record.pending = 0;
        const mailbox = queued as AclMessage[];
        if (this.c.records.get(name) !== record) {
          // Released already (release() did not wait): these go where the name points now.
          for (const message of mailbox) this.c.sink.route(message);
          return;
        }
        record.held = mailbox.length === 0 ? arrived : [...mailbox, ...arrived];
      },
      (err: unknown) => this.c.logger.error({ err, agent: name }, 'releasing an agent from its worker failed'),
    );
    return record.releasing;
  }

  /**
   * See AgentHost.release. After prepareRelease has resolved: the messages it holds, and the agent is gone.
   * Otherwise a worker's mailbox cannot be taken synchronously: the agent leaves at once here, and the
   * messages its worker still had queued come back later and are routed again, to wherever the caller
   * pointed the name (they may then arrive after messages sent there directly meanwhile).
   */
  release(record: AgentRecord): AclMessage[] {
    const name = record.name;
    record.stopping = true;
    this.c.forget(record);
    const held = record.held ?? [];
    if (record.releasing === undefined) void this.prepare(record);
    const change = record.releasedState;
    if (change !== undefined) {
      record.releasedState = undefined;
      this.c.observer.onStateChange(name, change.from, change.to);
    }
    return held;
  }
}
