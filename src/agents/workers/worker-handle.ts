// The main thread's side of one agent worker: the thread, the two integers the watchdog reads
// (worker-watchdog.ts), what is queued for its next post, and the bookkeeping that lets every query be
// answered and every lost message be answered when the worker has to be replaced.
import { Worker } from 'node:worker_threads';
import type { AclMessage } from '../../messaging/message.ts';
import type { ToWorker, WorkerSetup } from './worker-protocol.ts';

const ENTRY = new URL('./agent-worker-entry.mjs', import.meta.url);

/** A request to the worker waiting for its `done`. */
export interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class WorkerHandle {
  readonly worker: Worker;
  readonly marks: Int32Array;
  outbox: ToWorker[] = [];
  /** Module keys (sha256/pages) this worker holds. */
  readonly modules = new Set<string>();
  readonly agents = new Set<string>();
  readonly requests = new Map<number, Pending>();
  /** Messages handed to this worker and not yet taken from a mailbox, by their number. */
  readonly inFlight = new Map<number, { msg: AclMessage; to: string }>();
  alive = true;
  lastCount = -1;
  stalledMs = 0;
  messagesIn = 0;
  messagesOut = 0;
  messagesLocal = 0;
  /** Taken by its agents from agents of other workers over the direct channels. */
  messagesDirect = 0;
  heapUsed = 0;
  /** The worker's figure pages (worker-protocol.ts FIGURE_*), as it sent them. */
  readonly figurePages: Float64Array[] = [];
  /** Which agent each figure slot of the worker holds (invocation-cells name agents by slot). */
  readonly agentOfSlot: string[] = [];

  constructor(
    readonly index: number,
    setup: Omit<WorkerSetup, 'index' | 'marks'>,
    public restarts: number,
  ) {
    const marks = new SharedArrayBuffer(8);
    this.marks = new Int32Array(marks);
    this.worker = new Worker(ENTRY, { workerData: { ...setup, index, marks } satisfies WorkerSetup, name: `caxton-agents-${index}` });
  }
}
