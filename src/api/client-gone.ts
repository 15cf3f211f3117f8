// The signal a send with wait_ms hands the node: raised when the client's connection closes before its answer
// was written, so the wait ends rather than gathering replies for no one. One small object with one listener
// slot instead of an AbortController (an EventTarget): the send path makes one per request.
import type { ServerResponse } from 'node:http';
import type { WaitSignal } from '../messaging/client-inbox.ts';

export class ClientGone implements WaitSignal {
  #aborted = false;
  #listener: (() => void) | undefined;
  readonly #response: ServerResponse;
  readonly #onClose = (): void => {
    if (this.#response.writableFinished || this.#aborted) return;
    this.#aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  };

  /** Listens to `response` until detach(). */
  constructor(response: ServerResponse) {
    this.#response = response;
    response.on('close', this.#onClose);
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** One listener at a time (a wait registers one); it is called at most once. */
  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }

  /** Stops listening to the response (the send is over). */
  detach(): void {
    this.#listener = undefined;
    this.#response.off('close', this.#onClose);
  }
}
