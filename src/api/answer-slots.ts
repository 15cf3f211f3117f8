// A bound on the large answers the node builds at once (api.max_answers_in_flight): a conversation's history
// and the dead letters, each up to api.max_answer_bytes of stored text (~90 MB of peak RSS while one is read,
// parsed and serialized, measured). Each answer is bounded alone; without this, 16 read at once took a node to
// 1.4–1.9 GB. A read past the bound waits its turn, first come first served (a client reading 20 small
// conversations at once gets all 20), in a queue of api.max_answers_queued; past that, 503. A slot is held
// until the response is over or its connection closes (a client that does not read keeps its answer in the
// node's socket buffers until then); a client that leaves while queued leaves the queue.
import type { FastifyReply } from 'fastify';
import { releaseWhenDone } from './client-gone.ts';
import { sendUnavailable } from './error-reply.ts';

interface Waiter {
  /** Hands the waiter a slot (true), or tells it it left the queue (false). */
  settle(granted: boolean): void;
}

export class AnswerSlots {
  #inFlight = 0;
  readonly #queue: Waiter[] = [];
  readonly #max: number;
  readonly #maxQueued: number;

  constructor(max: number, maxQueued: number) {
    this.#max = max;
    this.#maxQueued = maxQueued;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * A slot for `reply`'s answer, held until its response is over or its connection closes: true once it is
   * this read's turn; false when the queue is full (503 answered on `reply`) or the client left meanwhile.
   */
  async take(reply: FastifyReply): Promise<boolean> {
    const release = await this.acquire(reply);
    if (release === undefined) {
      if (!reply.sent) void sendUnavailable(reply, this.fullMessage);
      return false;
    }
    if (releaseWhenDone(reply.raw, release)) return true;
    // The connection closed while this read waited (the slot went on to the next): nobody reads this.
    if (!reply.sent) void sendUnavailable(reply, 'the connection closed before the answer was started');
    return false;
  }

  /**
   * A slot, released by the function it resolves to; undefined when the queue is full, or when `leaving` (a
   * reply) is over before the turn came. For answers that are not an HTTP reply of their own (an MCP tool's).
   */
  acquire(leaving?: FastifyReply): Promise<(() => void) | undefined> {
    if (this.#inFlight < this.#max) {
      this.#inFlight++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#queue.length >= this.#maxQueued) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let waiting = true;
      const waiter: Waiter = {
        settle: (granted) => {
          waiting = false;
          resolve(granted ? this.#releaser() : undefined);
        },
      };
      this.#queue.push(waiter);
      if (leaving !== undefined) {
        releaseWhenDone(leaving.raw, () => {
          if (!waiting) return;
          this.#queue.splice(this.#queue.indexOf(waiter), 1);
          waiter.settle(false);
        });
      }
    });
  }

  /** The 503's text, for callers that answer it in their own shape. */
  get fullMessage(): string {
    return `${this.#max} large answers are being sent by this node and ${this.#maxQueued} more wait (api.max_answers_in_flight, api.max_answers_queued); retry shortly`;
  }

  /** Releases once: the slot goes to the first waiter, or back to the pool. */
  #releaser(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.#queue.shift();
      if (next !== undefined) next.settle(true);
      else this.#inFlight--;
    };
  }
}
