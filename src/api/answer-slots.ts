// A bound on the large answers the node builds at once (api.max_answers_in_flight): a conversation's history
// and the dead letters, each up to api.max_answer_bytes of stored text (~90 MB of peak RSS while one is read,
// parsed and serialized, measured). Each answer is bounded alone; without this, 16 read at once took a node to
// 1.4–1.9 GB. A slot is taken before the read and held until the response is over or its connection closes (a
// client that does not read keeps its answer in the node's socket buffers until then); past the bound, 503.
import type { FastifyReply } from 'fastify';
import { releaseWhenDone } from './client-gone.ts';
import { sendUnavailable } from './error-reply.ts';

export class AnswerSlots {
  #inFlight = 0;
  readonly #max: number;
  readonly #release = (): void => {
    this.#inFlight--;
  };

  constructor(max: number) {
    this.#max = max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * A slot for an answer that is not an HTTP reply of its own (an MCP tool's), released by the function
   * returned; undefined when the bound is reached.
   */
  tryTake(): (() => void) | undefined {
    if (this.#inFlight >= this.#max) return undefined;
    this.#inFlight++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#inFlight--;
    };
  }

  /** The 503's text, for callers that answer it in their own shape. */
  get fullMessage(): string {
    return `${this.#max} large answers are being sent by this node (api.max_answers_in_flight); retry shortly`;
  }

  /** Takes a slot for `reply`'s answer, true; or answers 503 on it and returns false. */
  take(reply: FastifyReply): boolean {
    if (this.#inFlight >= this.#max) {
      void sendUnavailable(reply, this.fullMessage);
      return false;
    }
    this.#inFlight++;
    if (releaseWhenDone(reply.raw, this.#release)) return true;
    // The connection is gone already (the slot was released): the read is not worth starting, nobody reads this.
    void sendUnavailable(reply, 'the connection closed before the answer was started');
    return false;
  }
}
