// The isolation policy of the agent worker pool. A watchdog reads two integers each worker writes around
// every invocation: a worker inside the same invocation for longer than stallMs (a host call that never
// returns, a loop the fuel meter cannot stop) is terminated and replaced, as is one that failed or exited;
// its agents start again on the new worker, and every message the main thread had handed it that no agent
// had taken yet is answered `failure` WORKER_RESTARTED.
import { CaxtonError } from '../../errors.ts';
import type { RuntimeLogger, RuntimeObserver } from '../runtime-observer.ts';
import type { AgentRecord } from './worker-agent-record.ts';
import type { DeliveryReports } from './delivery-reports.ts';
import type { WorkerHandle } from './worker-handle.ts';
import type { ToWorker } from './worker-protocol.ts';

export const DEFAULT_WORKER_STALL_MS = 5_000;

type RequestItem = Extract<ToWorker, { req: number }>;

/** What replacing a worker needs from the pool. */
export interface WorkerWatchdogContext {
  /** The pool's workers by index: a replacement takes the place of the worker it replaces. */
  readonly workers: WorkerHandle[];
  readonly records: ReadonlyMap<string, AgentRecord>;
  readonly reports: DeliveryReports;
  readonly observer: RuntimeObserver;
  readonly logger: RuntimeLogger;
  /** Once the pool is shutting down, no worker is replaced. */
  closed(): boolean;
  spawn(index: number, restarts: number): WorkerHandle;
  /** Starts the record's agent on its (new) worker from the module it ran, and takes the worker's answer. */
  startOnWorker(record: AgentRecord): Promise<void>;
  request(handle: WorkerHandle, item: RequestItem): Promise<unknown>;
}

export class WorkerWatchdog {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stallMs: number,
    private readonly c: WorkerWatchdogContext,
  ) {
    const every = Math.max(10, Math.floor(this.stallMs / 4));
    this.timer = setInterval(() => this.checkStalls(every), every).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private checkStalls(everyMs: number): void {
    for (const handle of this.c.workers) {
      if (!handle.alive) continue;
      const busy = Atomics.load(handle.marks, 0) === 1;
      const count = Atomics.load(handle.marks, 1);
      if (busy && count === handle.lastCount) {
        handle.stalledMs += everyMs;
        if (handle.stalledMs >= this.stallMs) this.replace(handle, `it was inside one invocation for more than ${this.stallMs} ms`);
      } else {
        handle.stalledMs = 0;
      }
      handle.lastCount = count;
    }
  }

  /** Terminates a stuck or dead worker, starts a fresh one in its place and its agents on it. */
  replace(handle: WorkerHandle, why: string): void {
    if (!handle.alive || this.c.closed()) return;
    handle.alive = false;
    void handle.worker.terminate();
    const fresh = this.c.spawn(handle.index, handle.restarts + 1);
    this.c.workers[handle.index] = fresh;
    this.c.logger.error({ worker: handle.index, agents: handle.agents.size, in_flight: handle.inFlight.size }, `agent worker ${handle.index} replaced: ${why}`);
    const text = `agent worker ${handle.index} was restarted: ${why}`;
    for (const pending of handle.requests.values()) pending.reject(new CaxtonError('UNAVAILABLE', text));
    handle.requests.clear();
    for (const { msg, to } of handle.inFlight.values()) {
      const record = this.c.records.get(to);
      if (record !== undefined && record.pending > 0) record.pending--;
      this.c.reports.lost(msg, to, text);
    }
    handle.inFlight.clear();
    for (const name of handle.agents) {
      const record = this.c.records.get(name);
      // Not started again: one being handed over leaves with what was held for it.
      if (record === undefined || record.held !== undefined) continue;
      record.worker = fresh;
      record.slot = undefined;
      fresh.agents.add(name);
      void this.restartOn(record);
    }
  }

  private async restartOn(record: AgentRecord): Promise<void> {
    record.restarting = true;
    record.state = 'deploying';
    try {
      await this.c.startOnWorker(record);
      if (record.wanted === 'stopped') await this.c.request(record.worker, { t: 'stop', req: 0, name: record.name });
    } catch (err) {
      record.state = 'failed';
      this.c.logger.error({ err, agent: record.name }, 'agent could not be started again on a replacement worker');
      this.c.observer.onStateChange(record.name, null, 'failed');
    } finally {
      record.restarting = false;
    }
  }
}
