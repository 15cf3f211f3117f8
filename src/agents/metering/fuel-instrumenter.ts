// The ModuleTransform that meters fuel and memory growth (fuel-instrument.mjs), run in a worker thread so
// that instrumenting (~2 s per MB) never stalls the node, and so binaryen loads without tsx's loader. The
// worker starts on first use and does not keep the process alive while idle.
import { Worker } from 'node:worker_threads';
import { CaxtonError } from '../../errors.ts';
import type { ModuleTransform } from '../module-cache.ts';

interface WorkerReply {
  id: number;
  bytes?: Uint8Array;
  error?: string;
  refused?: boolean;
}

const WORKER_URL = new URL('./instrument-worker.mjs', import.meta.url);

export class FuelInstrumenter {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { bytes: Uint8Array; resolve: (bytes: Uint8Array) => void; reject: (err: Error) => void }>();
  /** Modules instrumented so far (a test and a metric: one per distinct module, not per agent). */
  instrumented = 0;

  /** Bound, so it can be handed to ModuleCache as its transform. */
  readonly transform: ModuleTransform = (bytes) => this.instrument(bytes);

  instrument(bytes: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { bytes, resolve, reject });
      this.post(id, bytes);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private post(id: number, bytes: Uint8Array): void {
    const worker = this.start();
    worker.ref();
    // A copy goes over: the caller keeps its bytes (they are stored and hashed).
    worker.postMessage({ id, bytes: Uint8Array.from(bytes) });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // execArgv [] keeps tsx's loader (and its 5 s binaryen import) out of the thread.
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (err) => this.failAll(worker, err));
    worker.on('exit', () => this.restart(worker));
    this.worker = worker;
    return worker;
  }

  private settle(reply: WorkerReply): void {
    const waiter = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (!waiter) return;
    if (reply.bytes) {
      this.instrumented++;
      waiter.resolve(reply.bytes);
    } else if (reply.refused) {
      waiter.reject(new CaxtonError('INVALID_MODULE', `module cannot be metered: ${reply.error}`));
    } else {
      waiter.reject(new Error(`instrumenting the module failed: ${reply.error}`));
    }
  }

  /**
   * The worker ends itself after binaryen aborted on a module (that request was answered first): the
   * requests still queued in it go to a fresh worker.
   */
  private restart(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const [id, waiter] of this.pending) this.post(id, waiter.bytes);
  }

  private failAll(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
