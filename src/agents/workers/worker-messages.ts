// What the main thread does with each report a worker posts: sends that leave the worker go to the router,
// answers settle requests, counts and states update the agent records, and tool calls are made here (the
// tool gateway lives on the main thread) with their results posted back. It sees the pool only through
// WorkerMessageContext, so it cannot start, stop or replace anything.
import { CaxtonError, describeError, type ErrorCode } from '../../errors.ts';
import type { MessageSink } from '../../messaging/delivery.ts';
import type { AclMessage } from '../../messaging/message.ts';
import type { GuardedObserver, RuntimeLogger } from '../runtime-observer.ts';
import type { FinishedSpanRecorder } from '../invocation-tracer.ts';
import type { ToolGateway } from '../tool-gateway.ts';
import type { AgentRecord } from './worker-agent-record.ts';
import type { DeliveryReports } from './delivery-reports.ts';
import type { WorkerHandle } from './worker-handle.ts';
import { messageOfWireText } from '../../messaging/wire-text.ts';
import { INVOCATION_CELL, INVOCATION_KINDS, INVOCATION_OUTCOMES, type ErrorShape, type FromWorker, type ToWorker } from './worker-protocol.ts';

/** What handling a worker's reports needs from the pool. */
export interface WorkerMessageContext {
  readonly records: ReadonlyMap<string, AgentRecord>;
  /** The router: where sends that leave a worker go. */
  readonly sink: MessageSink;
  readonly reports: DeliveryReports;
  readonly observer: GuardedObserver;
  readonly logger: RuntimeLogger;
  readonly gateway: ToolGateway;
  /** Queues an item for the worker's next post. */
  send(handle: WorkerHandle, item: ToWorker): void;
  /** Counts a message moved between threads (whenIdle waits until a round moves none). */
  moved(): void;
  /** The node's tracer, when tracing is on. */
  readonly spans?: FinishedSpanRecorder;
}

function toError(shape: ErrorShape): CaxtonError {
  return new CaxtonError(shape.code as ErrorCode, shape.message, shape.details);
}

export class WorkerMessages {
  /** Tool calls made for agents and not answered yet: whenIdle waits for them too. */
  toolCallsInFlight = 0;

  constructor(private readonly c: WorkerMessageContext) {}

  received(handle: WorkerHandle, item: FromWorker): void {
    switch (item.t) {
      case 'route':
        this.#route(handle, item.msg);
        return;
      case 'route-text':
        this.#route(handle, messageOfWireText(item.text, item.bytes));
        return;
      case 'routed':
        if (item.direct) handle.messagesDirect++;
        else handle.messagesLocal++;
        this.c.reports.routed(item.msg, item.to);
        return;
      case 'routed-count':
        handle.messagesLocal += item.n - item.direct;
        handle.messagesDirect += item.direct;
        this.c.reports.routedCount(item.n);
        return;
      case 'refused': {
        if (item.seq !== undefined) this.settle(handle, item.seq);
        this.c.reports.refused(item.msg, item.to, item.outcome);
        return;
      }
      case 'lost':
        this.c.moved();
        this.c.reports.lost(item.msg, item.to, `agent worker ${item.worker} was restarted before the message left its mailbox`);
        return;
      case 'taken':
        for (const seq of item.seqs) this.settle(handle, seq);
        return;
      case 'done': {
        const pending = handle.requests.get(item.req);
        if (pending === undefined) return;
        handle.requests.delete(item.req);
        if (item.ok) pending.resolve(item.value);
        else pending.reject(toError(item.error));
        return;
      }
      case 'tool-call':
        return this.callTool(handle, item);
      case 'invocations': {
        this.c.observer.onInvocations(item.agent, item.kind, item.outcome, item.count, item.durations);
        return;
      }
      case 'invocation-cells': {
        const { cells, durations } = item;
        let from = 0;
        for (let at = 0; at + INVOCATION_CELL <= cells.length; at += INVOCATION_CELL) {
          const timed = cells[at + 4];
          const agent = handle.agentOfSlot[cells[at]];
          const kind = INVOCATION_KINDS[cells[at + 1]];
          const outcome = INVOCATION_OUTCOMES[cells[at + 2]];
          if (agent !== undefined && kind !== undefined && outcome !== undefined) {
            // One report per cell, not one per invocation: at 2 busy workers that loop was ~40% of this thread's time.
            this.c.observer.onInvocations(agent, kind, outcome, cells[at + 3], durations.subarray(from, from + timed));
          }
          from += timed;
        }
        return;
      }
      case 'trap':
        this.c.observer.onTrap(item.agent, item.reason);
        return;
      case 'span':
        this.c.spans?.recordFinished(item.span);
        return;
      case 'state': {
        const record = this.c.records.get(item.agent);
        if (record !== undefined && record.worker === handle) {
          if (record.held !== undefined) {
            // Released on its worker for a hand-over: reported by release(), once the name points at the new
            // owner (as the in-thread runtime does), or the registry would publish it stopped here meanwhile.
            record.releasedState = { from: item.from, to: item.to };
            return;
          }
          record.state = item.to;
        }
        this.c.observer.onStateChange(item.agent, item.from, item.to);
        return;
      }
      case 'log': {
        const record = this.c.records.get(item.line.agent);
        const line = record !== undefined ? record.logs.append({ ts: item.line.ts, level: item.line.level, agent: item.line.agent, message: item.line.message }) : item.line;
        this.c.observer.onLog(line);
        return;
      }
      case 'denied':
        this.c.observer.onPermissionDenied(item.agent, item.what);
        return;
      case 'logger':
        this.c.logger[item.level]({ ...item.obj, worker: handle.index }, item.msg);
        return;
      case 'figure-page':
        handle.figurePages[item.page] = new Float64Array(item.buffer);
        return;
      case 'figure-slot': {
        handle.agentOfSlot[item.slot] = item.agent;
        const record = this.c.records.get(item.agent);
        if (record !== undefined && record.worker === handle) record.slot = item.slot;
        return;
      }
      case 'figures':
        for (const figures of item.agents) {
          const record = this.c.records.get(figures.name);
          if (record === undefined || record.worker !== handle) continue;
          record.stats = figures.stats;
        }
        return;
    }
  }

  /** A send of one of the worker's agents, for the main thread's router (another worker, a client, another node). */
  #route(handle: WorkerHandle, message: AclMessage): void {
    handle.messagesOut++;
    this.c.moved();
    try {
      this.c.sink.route(message);
    } catch (err) {
      this.c.logger.error({ err, message_id: message.message_id }, 'routing a message from an agent worker failed');
    }
  }

  private settle(handle: WorkerHandle, seq: number): void {
    const entry = handle.inFlight.get(seq);
    if (entry === undefined) return;
    handle.inFlight.delete(seq);
    const record = this.c.records.get(entry.to);
    if (record !== undefined && record.worker === handle && record.pending > 0) record.pending--;
  }

  private callTool(handle: WorkerHandle, call: Extract<FromWorker, { t: 'tool-call' }>): void {
    this.toolCallsInFlight++;
    let pending: Promise<unknown>;
    try {
      pending = this.c.gateway.call(call.agent, call.server, call.tool, call.args);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending
      .then(
        (value) => this.c.send(handle, { t: 'tool-result', id: call.id, ok: true, value }),
        (err: unknown) => {
          const error: ErrorShape =
            err instanceof CaxtonError
              ? { code: err.code, message: err.message }
              : { code: 'TOOL_ERROR', message: describeError(err) };
          this.c.send(handle, { t: 'tool-result', id: call.id, ok: false, error });
        },
      )
      .finally(() => this.toolCallsInFlight--);
  }
}
